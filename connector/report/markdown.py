"""Markdown rendering: for pasting into chat and posting as a tracker comment.

The jinja2 environment escapes every expression (finalize) unless the value is `Trusted`, so a
template that forgets a filter still cannot let tracker text through raw.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

import jinja2

from connector.report.escape import Trusted, md_cell, md_link, md_text
from connector.report.model import (
    CHANGE_KINDS,
    CHANGE_TITLES,
    DECISION_RULE,
    ItemRef,
    MilestoneSection,
    Person,
    Report,
)

LIST_LIMIT = 15  # rows per list in Markdown (it is read, and posted); the HTML folds more, the JSON has all
_HEALTH = {"done": "done", "on-track": "on track", "at-risk": "AT RISK", "off-track": "OFF TRACK"}


def _finalize(value):
    if value is None:
        return Trusted("")
    if isinstance(value, Trusted):
        return value
    return md_text(value)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("connector.report", "templates"),
                             autoescape=False, finalize=_finalize, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters.update(plain=lambda v: md_text(v, limit=None), cell=md_cell, num=_num, dt=_dt, d=_d,
                       hours=_hours, who=who,
                       health=lambda h: Trusted(_HEALTH.get(str(h), md_text(h))),
                       bytracker=lambda d: md_text(", ".join(f"{k} {v}" for k, v in d.items()) or "—"))
    return env


@jinja2.pass_context
def _dt(context, value: datetime | None) -> Trusted:
    if not value:
        return Trusted("never")
    return Trusted(value.astimezone(context["tz"]).strftime("%Y-%m-%d %H:%M %Z"))


def _d(value: date | None) -> Trusted:
    return Trusted(value.isoformat()) if value else Trusted("—")


def _hours(value: float | None) -> Trusted:
    if value is None:
        return Trusted("—")
    return Trusted(f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} days")


def _num(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, float) else str(value)


def who(people: tuple[Person, ...]) -> str:
    """Assignees by name; an identity the plan does not declare is shown as it is, marked."""
    if not people:
        return "unassigned"
    return ", ".join(p.name if p.known else f"{p.name} (not in plan)" for p in people)


def moved_text(then: date | None, now: date | None, days: int | None) -> str:
    """`2026-12-10 → 2026-12-14 (+4 d)`; a side without a forecast shows as —."""
    left, right = (then.isoformat() if then else "—"), (now.isoformat() if now else "—")
    if days is None:
        return f"{left} → {right}"
    return f"{left} → {right} ({days:+d} d)" if days else f"{left} → {right} (same)"


def by_due_text(m: MilestoneSection, confidence: int = 85) -> str:
    n = m.forecast.by_due_at(confidence)
    if n is None or m.forecast.method == "complete":
        return "—"
    return f"{n} or more of {m.forecast.remaining}"


def forecast_lines(m: MilestoneSection) -> list[str]:
    """The forecast's two answers and the scope range, as plain sentences (plan text and numbers only)."""
    f = m.forecast
    if f.method in ("complete", "none") or f.p50 is None:
        return []
    when = ", ".join(f"P{p} {d.isoformat()}" for p in (50, 70, 85, 95) if (d := f.at(p)))
    lines = [f"When: {when} ({f.runs:,} futures over {f.window_days} days of throughput, "
             f"{f.zero_days} of them zero)." if f.runs else f"When: {when} (straight-line projection)."]
    if f.by_due:
        counts = ", ".join(f"{c} %: {n} or more" for c, n in f.by_due)
        lines.append(f"How many of the {f.remaining} open items by the due date {m.due.isoformat()}: {counts}.")
    if f.scope_high > f.scope_low:
        grown = dict(f.with_growth).get(85)
        after = (f"if it keeps growing so, P85 is {grown.isoformat()}" if grown and grown < f.horizon
                 else "at that rate the scope grows faster than work finishes")
        lines.append(f"Remaining scope {f.scope_low}–{f.scope_high} items by the P85 date (the history adds "
                     f"{f.growth_per_day:g} a day); {after}.")
    return lines


def render_markdown(report: Report, *, charts: dict[str, str] | None = None,
                    limit: int = LIST_LIMIT, full_report: str | None = None) -> str:
    """The report as Markdown. `charts` maps milestone key (and "timeline", "hist-<key>") → a relative
    path or URL of its SVG; without it (e.g. a posted comment) each milestone says where the chart is
    instead. `full_report` (a relative file name or URL) is where cut lists point."""
    charts = charts or {}
    env = _environment()
    full = _relative_link("the full report", full_report) if full_report else None

    def link(ref: ItemRef) -> Trusted:
        return md_link(ref.key, ref.url)

    def more(rows) -> Trusted:
        extra = len(rows) - limit
        where = full or "the HTML or JSON report"
        return Trusted(f"\n_… and {extra} more (see {where})._\n") if extra > 0 else Trusted("")

    def chart_image(section: MilestoneSection) -> Trusted:
        return md_image(f"burn-up of {section.key}", charts[section.key])

    def hist_image(section: MilestoneSection) -> Trusted:
        return md_image(f"completion dates of {section.key}", charts[f"hist-{section.key}"])

    timeline_image = md_image("milestone timeline", charts["timeline"]) if "timeline" in charts else None
    dependencies_image = (md_image("dependencies between milestones", charts["dependencies"])
                          if "dependencies" in charts else None)
    template = env.get_template("report.md.j2")
    text = template.render(r=report, charts=charts, limit=limit, change_kinds=CHANGE_KINDS,
                           change_titles=CHANGE_TITLES, link=link, more=more, chart_image=chart_image,
                           hist_image=hist_image, timeline_image=timeline_image, full_report=full,
                           dependencies_image=dependencies_image,
                           decision_rule=DECISION_RULE,
                           moved=lambda a, b, d: Trusted(moved_text(a, b, d)),
                           by_due=lambda m: Trusted(by_due_text(m)),
                           forecast_detail=lambda m: Trusted("\n".join(forecast_lines(m))),
                           tz=ZoneInfo(report.timezone))
    return _collapse_blank_lines(text)


def md_image(alt: str, target: str) -> Trusted:
    """An image reference to a chart file we wrote (a relative file name) or an http(s) URL."""
    safe = target if _SAFE_PATH.match(target) else None
    image = md_link(alt, target) if safe is None else Trusted(f"[{md_text(alt)}]({safe})")
    return Trusted("!" + image) if image.startswith("[") else image


_SAFE_PATH = __import__("re").compile(r"^(\.\./)?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


def _relative_link(text: str, target: str) -> Trusted:
    """A link to a file we wrote (relative path of plain names) or an http(s) URL; else plain text."""
    if _SAFE_PATH.match(target):
        return Trusted(f"[{md_text(text)}]({target})")
    return md_link(text, target)


def _collapse_blank_lines(text: str) -> str:
    lines, blank = [], 0
    for line in text.splitlines():
        blank = blank + 1 if not line.strip() else 0
        if blank <= 1:
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"
