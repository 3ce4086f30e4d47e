"""Burn-up charts as standalone SVG text (matplotlib, no pyplot state, no network, deterministic output).

Chart text is only plan text and numbers (never tracker titles); matplotlib escapes it in the SVG,
and `svg_for_inline` refuses anything that could run script when the SVG is inlined into HTML.
"""

from __future__ import annotations

import io
import re
from datetime import date

import matplotlib

matplotlib.use("Agg")  # never a GUI backend, even when a DISPLAY happens to be set

from matplotlib import dates as mdates  # noqa: E402
from matplotlib import rc_context  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from connector.report.model import MilestoneSection  # noqa: E402

_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_UNSAFE = re.compile(r"<script|<foreignObject|\son\w+\s*=|javascript:", re.I)
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
        if section.forecast.p85 and section.forecast.p85 != section.due:
            ax.axvline(section.forecast.p85, color="#e67e22", linestyle=":", linewidth=1.2,
                       label=f"forecast P85 {section.forecast.p85:%Y-%m-%d}")
        if today:
            ax.axvline(today, color="#999999", linewidth=0.8)
        ax.set_ylim(bottom=0, top=max([p.scope for p in section.burnup] + [1]) * 1.08)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # items are whole
        ax.set_ylabel("items")
        # a literal "$" would start matplotlib mathtext (and can fail to parse): escape it
        ax.set_title(f"{section.key}: {section.title}".replace("$", r"\$"), loc="left")
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        ax.grid(axis="y", color="#e5e5e5")
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "plansync"})
    return buffer.getvalue()


def svg_for_inline(svg: str, *, title: str) -> str:
    """The <svg> element alone (no XML prolog/DOCTYPE), with an accessible label; script-free or refused."""
    body = _PROLOG.sub("", svg, count=1)
    if _UNSAFE.search(body):
        raise ValueError("chart SVG contains scriptable content; refusing to inline it")
    label = title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return body.replace("<svg ", f'<svg role="img" aria-label="{label}" class="burnup" ', 1)
