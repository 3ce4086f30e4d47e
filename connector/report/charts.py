"""Burn-up (with forecast cone), completion histogram and milestone timeline as standalone SVG text (matplotlib, no pyplot state, no network, deterministic output).

Chart text is only plan text and numbers (never tracker titles); matplotlib escapes it in the SVG,
and `svg_for_inline` refuses anything that could run script when the SVG is inlined into HTML.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")  # never a GUI backend, even when a DISPLAY happens to be set

from matplotlib import dates as mdates  # noqa: E402
from matplotlib import rc_context  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from connector.report.model import MilestoneSection  # noqa: E402

_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
# inside tags only: matplotlib writes text as escaped character data (`&lt;img onerror=...` in a plan title is
# text, and must not make the chart, and with it the whole report, fail)
_UNSAFE = re.compile(r"<script|<foreignObject|<[^>]*\son\w+\s*=|<[^>]*=\s*[\"']?\s*javascript:", re.I)
_RC = {"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


def burnup_svg(section: MilestoneSection, *, today: date | None = None) -> str:
    """One milestone's burn-up (scope and done per day, due date and today marked) as SVG text."""
    days = [p.day for p in section.burnup]
    with rc_context({**_RC, "svg.hashsalt": f"plansync-{section.key}"}):
        fig = Figure(figsize=(7.2, 3.0), dpi=72)
        ax = fig.add_subplot()
        if days:
            ax.step(days, [p.scope for p in section.burnup], where="post", color="#5b6b7f", label="scope")
            ax.fill_between(days, [p.done for p in section.burnup], step="post", color="#2e8b57", alpha=0.35)
            ax.step(days, [p.done for p in section.burnup], where="post", color="#2e8b57", label="done")
        ax.axvline(section.due, color="#c0392b", linestyle="--", linewidth=1.2, label=f"due {section.due:%Y-%m-%d}")
        if today:
            ax.axvline(today, color="#999999", linewidth=0.8)
            add_cone(ax, section, today)
        cone_top = [goal for _, _, goal in cone_points(section, today)] if today else []
        ax.set_ylim(bottom=0, top=max([p.scope for p in section.burnup] + cone_top + [1]) * 1.08)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # items are whole
        ax.set_ylabel("items")
        # a literal "$" would start matplotlib mathtext (and can fail to parse): escape it
        ax.set_title(f"{section.key}: {section.title}".replace("$", r"\$"), loc="left")
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        ax.grid(axis="y", color="#e5e5e5")
        return _svg(fig)


def svg_for_inline(svg: str, *, title: str, css_class: str = "burnup") -> str:
    """The <svg> element alone (no XML prolog/DOCTYPE), with an accessible label; script-free or refused."""
    body = _PROLOG.sub("", svg, count=1)
    if _UNSAFE.search(body):
        raise ValueError("chart SVG contains scriptable content; refusing to inline it")
    label = title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return body.replace("<svg ", f'<svg role="img" aria-label="{label}" class="{css_class}" ', 1)


_HEALTH_COLOURS = {"done": "#4a90d9", "on-track": "#2e8b57", "at-risk": "#e6a23c", "off-track": "#c0392b"}


def _svg(fig: Figure) -> str:
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "plansync"})
    return buffer.getvalue()


def _plain(text: str) -> str:
    return text.replace("$", r"\$")  # a literal "$" would start mathtext


def cone_points(section: MilestoneSection, today: date) -> list[tuple[str, date, int]]:
    """The forecast cone's corners: from today's done count to the full scope at P50, P85 and P95."""
    if not section.burnup or section.forecast.p50 is None:
        return []
    now = section.burnup[-1]
    goal = now.done + section.forecast.remaining
    # a cone years past the due date would squash the chart to a sliver; the histogram still shows it
    last = max(section.due, today) + timedelta(days=366)
    return [(name, when, goal) for name, when in (("P50", section.forecast.p50), ("P85", section.forecast.p85),
                                                 ("P95", section.forecast.p95 or section.forecast.p85))
            if when is not None and today <= when <= last]


def add_cone(ax, section: MilestoneSection, today: date) -> None:
    corners = cone_points(section, today)
    if not corners:
        return
    done = section.burnup[-1].done
    by_name = {name: (when, goal) for name, when, goal in corners}
    if "P50" in by_name and "P95" in by_name:
        (p50, goal), (p95, _) = by_name["P50"], by_name["P95"]
        for patch in ax.fill([today, p50, p95], [done, goal, goal], color="#e67e22", alpha=0.18, linewidth=0,
                             label="forecast cone P50–P95"):
            patch.set_gid("forecast-cone")  # an id in the SVG: tests find the cone by it
    for name, style in (("P50", "-"), ("P85", "--"), ("P95", ":")):
        if name in by_name:
            when, goal = by_name[name]
            ax.plot([today, when], [done, goal], color="#e67e22", linestyle=style, linewidth=1.0)
            ax.annotate(f"{name} {when:%b %d}", (when, goal), textcoords="offset points", xytext=(2, 3),
                        fontsize=7, color="#a0522d")


def histogram_svg(section: MilestoneSection) -> str:
    """Completion dates of the sampled futures, with P50/P85/P95 and the due date marked."""
    hist = section.forecast.histogram
    with rc_context({**_RC, "svg.hashsalt": f"plansync-hist-{section.key}"}):
        fig = Figure(figsize=(7.2, 2.4), dpi=72)
        ax = fig.add_subplot()
        if hist:
            total = sum(n for _, n in hist)
            width, unit = 1, "day"
            if (hist[-1][0] - hist[0][0]).days > 90:  # a long spread reads better by week
                width, unit, weekly = 7, "week", {}
                for day, n in hist:
                    monday = day - timedelta(days=day.weekday())
                    weekly[monday] = weekly.get(monday, 0) + n
                hist = tuple(sorted(weekly.items()))
            bars = ax.bar([d for d, _ in hist], [100 * n / total for _, n in hist], width=width, align="edge",
                          color="#5b8fbf", label=f"futures finishing that {unit}")
            for n, bar in enumerate(bars.patches):
                bar.set_gid(f"hist-bar-{n}")  # ids in the SVG: tests find the bars by them
            for p, style in ((50, "-"), (85, "--"), (95, ":")):
                when = section.forecast.at(p)
                if when:
                    ax.axvline(when, color="#e67e22", linestyle=style, linewidth=1.0, label=f"P{p} {when:%Y-%m-%d}")
        ax.axvline(section.due, color="#c0392b", linestyle="--", linewidth=1.2, label=f"due {section.due:%Y-%m-%d}")
        ax.set_ylabel("% of futures")
        ax.set_title(_plain(f"{section.key}: completion dates ({section.forecast.runs:,} futures)"), loc="left")
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        ax.legend(loc="upper right", frameon=False, fontsize=7)
        return _svg(fig)


def timeline_svg(rows, *, today: date) -> str:
    """The milestone timeline: planned window (grey) against the forecast P50–P85 band (health colour),
    due dates, today's line and `depends_on` arrows from a dependency's due date to its dependant."""
    rows = list(rows)
    with rc_context({**_RC, "svg.hashsalt": "plansync-timeline"}):
        fig = Figure(figsize=(7.6, 0.9 + 0.42 * max(len(rows), 1)), dpi=72)
        ax = fig.add_subplot()
        index = {row.key: n for n, row in enumerate(rows)}
        first_band = next((n for n, row in enumerate(rows) if row.p50 and row.p85), None)
        for n, row in enumerate(rows):
            ax.barh(n, (row.due - row.start).days or 1, left=row.start, height=0.55, color="#d5dbe3",
                    label="planned window" if n == 0 else None).patches[0].set_gid(f"planned-{n}")
            if row.p50 and row.p85:
                ax.barh(n, max((row.p85 - row.p50).days, 1), left=row.p50, height=0.25,
                        color=_HEALTH_COLOURS.get(row.health, "#888888"),
                        label="forecast P50–P85 (colour: health)" if n == first_band else None).patches[0].set_gid(f"forecast-{n}")
            ax.plot([row.due], [n], marker="|", markersize=14, color="#c0392b")
        for row in rows:
            for dep in row.depends_on:
                if dep in index:
                    ax.annotate("", xy=(row.start, index[row.key]), xytext=(rows[index[dep]].due, index[dep]),
                                arrowprops={"arrowstyle": "->", "color": "#555555", "lw": 0.9,
                                            "connectionstyle": "arc3,rad=-0.2"})
        ax.axvline(today, color="#333333", linewidth=0.9, linestyle="-",
                   label=f"today {today:%Y-%m-%d}").set_gid("today")
        ax.set_yticks(range(len(rows)), [_plain(f"{r.key}: {r.title}")[:40] for r in rows])
        ax.set_ylim(len(rows) - 0.4, -0.6)
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=9))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        ax.grid(axis="x", color="#eeeeee")
        ax.set_title("Milestones: planned window vs forecast", loc="left", pad=16)
        # above the bars, not over them: the last milestone's bar ends where a corner legend would sit
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3, frameon=False, fontsize=7)
        return _svg(fig)
