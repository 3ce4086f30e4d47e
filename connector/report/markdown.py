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
from connector.report.model import CHANGE_KINDS, CHANGE_TITLES, ItemRef, MilestoneSection, Report

LIST_LIMIT = 50  # rows per list in Markdown; the HTML and JSON carry more
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
                       hours=_hours,
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


def render_markdown(report: Report, *, charts: dict[str, str] | None = None,
                    limit: int = LIST_LIMIT) -> str:
    """The report as Markdown. `charts` maps milestone key → a relative path or URL of its SVG;
    without it (e.g. a posted comment) each milestone says where the chart is instead."""
    charts = charts or {}
    env = _environment()

    def link(ref: ItemRef) -> Trusted:
        return md_link(ref.key, ref.url)

    def more(rows) -> Trusted:
        extra = len(rows) - limit
        return Trusted(f"\n_… and {extra} more (see the HTML or JSON report)._\n") if extra > 0 else Trusted("")

    def chart_image(section: MilestoneSection) -> Trusted:
        return md_image(f"burn-up of {section.key}", charts[section.key])

    template = env.get_template("report.md.j2")
    text = template.render(r=report, charts=charts, limit=limit, change_kinds=CHANGE_KINDS,
                           change_titles=CHANGE_TITLES, link=link, more=more, chart_image=chart_image,
                           tz=ZoneInfo(report.timezone))
    return _collapse_blank_lines(text)


def md_image(alt: str, target: str) -> Trusted:
    """An image reference to a chart file we wrote (a relative file name) or an http(s) URL."""
    safe = target if "/" not in target and ":" not in target else None
    image = md_link(alt, target) if safe is None else Trusted(f"[{md_text(alt)}]({safe})")
    return Trusted("!" + image) if image.startswith("[") else image


def _collapse_blank_lines(text: str) -> str:
    lines, blank = [], 0
    for line in text.splitlines():
        blank = blank + 1 if not line.strip() else 0
        if blank <= 1:
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"
