"""Self-contained HTML: one file, inline CSS and inline SVG charts, no script, opens offline.

jinja2 autoescape covers every tracker string; the only `Markup` is chart SVG we generated ourselves
(checked script-free by charts.svg_for_inline) and links built here from escaped parts.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from connector.report.charts import burnup_svg, histogram_svg, svg_for_inline, timeline_svg
from connector.report.escape import HTML_CONTROL, safe_url
from connector.report.markdown import by_due_text, forecast_lines, moved_text, who
from connector.report.model import CHANGE_KINDS, CHANGE_TITLES, DECISION_RULE, ItemRef, Report

LIST_LIMIT = 500  # rows per list; the JSON has every row
FOLD = 10  # longer lists are folded into <details>: the first screen stays the summary


@jinja2.pass_context
def _dt(context, value: datetime | None) -> str:
    return value.astimezone(context["tz"]).strftime("%Y-%m-%d %H:%M %Z") if value else "never"


def _d(value: date | None) -> str:
    return value.isoformat() if value else "—"


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} days"


def _num(value) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _inert(value):
    """Every plain string an expression prints loses control characters and bidi overrides first:
    autoescape makes `<` harmless but passes ESC, NUL and RLO through (invalid HTML, terminal escapes
    for whoever views the file as text). Our own `Markup` (charts, links) is left as built."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return HTML_CONTROL.sub(" ", value)
    return value


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("connector.report", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, finalize=_inert)
    env.filters.update(dt=_dt, d=_d, hours=_hours, num=_num)
    return env


def link(ref: ItemRef) -> Markup:
    """The item's key linking into its tracker (http(s) only; anything else is plain text)."""
    url = safe_url(ref.url)
    if url is None:
        return escape(_inert(ref.key))
    return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(url, _inert(ref.key))


MAX_CHARTS = 60  # a chart costs ~50 ms: a plan of 2,000 milestones must not take minutes to report


def chart_svgs(report: Report, limit: int = MAX_CHARTS) -> dict[str, str]:
    """Milestone key → standalone burn-up SVG text (also what the Markdown output writes next to itself),
    for the first `limit` milestones in plan order; the rest are reported without a chart."""
    today = report.as_of.astimezone(ZoneInfo(report.timezone)).date()
    return {m.key: burnup_svg(m, today=today) for m in report.milestones[:limit]}


def all_chart_svgs(report: Report) -> dict[str, str]:
    """Every chart: burn-ups by milestone key, "hist-<key>" completion histograms, and "timeline"."""
    today = report.as_of.astimezone(ZoneInfo(report.timezone)).date()
    charts = chart_svgs(report)
    charts.update({f"hist-{m.key}": histogram_svg(m) for m in report.milestones if m.forecast.histogram})
    if report.timeline:
        charts["timeline"] = timeline_svg(report.timeline, today=today)
    if report.dependencies:
        from connector.report.depchart import dependencies_svg
        charts["dependencies"] = dependencies_svg(report.milestones, report.dependencies)
    return charts


def _inline(name: str, svg: str) -> Markup:
    if name == "timeline":
        return Markup(svg_for_inline(svg, title="Milestone timeline", css_class="timeline"))
    if name == "dependencies":
        return Markup(svg_for_inline(svg, title="Dependencies between milestones", css_class="timeline"))
    if name.startswith("hist-"):
        return Markup(svg_for_inline(svg, title=f"Completion dates of {name[5:]}", css_class="histogram"))
    return Markup(svg_for_inline(svg, title=f"Burn-up of {name}"))


def render_html(report: Report, *, charts: dict[str, str] | None = None, limit: int = LIST_LIMIT,
                nav: dict[str, str | None] | None = None) -> str:
    """The page; `nav` holds relative hrefs {"prev", "next", "index"} for the week-to-week links."""
    charts = charts if charts is not None else all_chart_svgs(report)
    inline = {name: _inline(name, svg) for name, svg in charts.items()}

    def more(rows) -> Markup:
        extra = len(rows) - limit
        return Markup('<p class="muted">… and {} more (see the JSON report).</p>').format(extra) \
            if extra > 0 else Markup("")

    def fold_open(rows) -> Markup:
        return Markup("<details><summary>Show all {}</summary>").format(len(rows)) if len(rows) > FOLD \
            else Markup("")

    def fold_close(rows) -> Markup:
        return Markup("</details>") if len(rows) > FOLD else Markup("")

    def moved(then, now, days) -> Markup:
        text = escape(moved_text(then, now, days))
        css = "moved-later" if days and days > 0 else "moved-earlier" if days and days < 0 else ""
        return Markup('<span class="{}">{}</span>').format(css, text) if css else text

    template = _environment().get_template("report.html.j2")
    return template.render(r=report, charts=inline, limit=limit, change_kinds=CHANGE_KINDS,
                           change_titles=CHANGE_TITLES, link=link, more=more, tz=ZoneInfo(report.timezone),
                           nav=nav, fold_open=fold_open, fold_close=fold_close, moved=moved, who=who,
                           by_due=by_due_text, forecast_lines=forecast_lines, decision_rule=DECISION_RULE)
