"""The weekly summary as a tracker comment, rendered natively: Atlassian Document Format (Jira Cloud),
Jira wiki markup (Data Center) or Markdown (GitHub). Pure functions; the adapter names its format.

Only the summary is posted (not the item dump), cut to the vendor's size limit with a pointer to the
full report. Tracker text is escaped for each syntax (ADF text nodes are literal by construction).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from connector.report.escape import md_link, md_text, safe_url
from connector.report.markdown import moved_text, who
from connector.report.model import DECISION_RULE, Report

FORMATS = ("adf", "wiki", "markdown")
# characters per comment body: GitHub rejects over 65,536; Jira over 32,767 (ADF: its JSON text)
LIMITS = {"markdown": 65_000, "wiki": 32_000, "adf": 32_000}
_HEALTH = {"done": "done", "on-track": "on track", "at-risk": "AT RISK", "off-track": "OFF TRACK"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")
# Jira wiki markup: every character that can start markup, a macro ({code}), a link or a mention ([~x])
_WIKI_SPECIAL = re.compile(r"([\\{}\[\]|*_\-+^~!#?=<>&()`])")
HEADERS = ("Milestone", "Health then → now", "Forecast P50 then → now", "Forecast P85 then → now",
           "Added / finished", "Newly blocked")


def comment_marker(week: str) -> str:
    """The text that identifies the week's comment in every format (also inside the older
    `<!-- plansync:weekly-report W -->` marker, so comments posted before are still found)."""
    return f"plansync:weekly-report {week}"


def _health(value: str | None) -> str:
    return _HEALTH.get(str(value), str(value)) if value else "new"


def _rows(report: Report) -> list[tuple[str, ...]]:
    """The summary table as plain text cells (each renderer escapes them its own way)."""
    return [(f"{s.key}: {s.title}", f"{_health(s.health_then)} → {_health(s.health_now)}",
             moved_text(s.p50_then, s.p50_now, s.p50_moved), moved_text(s.p85_then, s.p85_now, s.p85_moved),
             f"+{s.added} / {s.finished}", str(len(s.newly_blocked)))
            for s in (report.summary.milestones if report.summary else ())]


def _intro(report: Report) -> str:
    stale = ", ".join(f.tracker for f in report.stale_trackers)
    text = f"As of {report.as_of:%Y-%m-%d %H:%M} UTC; {report.item_count} items tracked."
    return text + (f" Stale data from: {stale}." if stale else "")


def _plain(text: object) -> str:
    return _CONTROL.sub(" ", "" if text is None else str(text)).strip()


# --- Markdown (GitHub) ---

def summary_markdown(report: Report, week: str, full_report: str | None = None, *, rows: int | None = None) -> str:
    table = _rows(report)[:rows]
    lines = [f"<!-- {comment_marker(week)} -->", f"## {md_text(report.plan_name)}: weekly summary {week}", "",
             md_text(_intro(report)), "",
             "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in table]
    lines += _more(report, table)
    lines += ["", "**Needs a decision**", ""]
    for d in (report.summary.decisions if report.summary else ()):
        lines.append(f"- {md_link(d.item.key, d.item.url)} {md_text(d.item.title)} "
                     f"({md_text(d.milestone)}, {md_text(who(d.item.people))}): {md_text(d.why)}")
    if not report.summary or not report.summary.decisions:
        lines.append("- Nothing blocked or overdue in a milestone at risk.")
    lines += ["", f"_{md_text(DECISION_RULE, limit=None)}_", "", _pointer_md(full_report)]
    return "\n".join(lines) + "\n"


def _pointer_md(full: str | None) -> str:
    target = safe_url(full)
    if target:
        return f"Full report: {md_link('HTML', full)}."
    return "The full report (every item, charts, forecasts) is in the HTML and JSON report files."


def _more(report: Report, shown) -> list[str]:
    total = len(report.summary.milestones) if report.summary else 0
    return ["", f"… and {total - len(shown)} more milestones in the full report."] if total > len(shown) else []


# --- Jira wiki markup (Data Center / Server) ---

def wiki_text(value: object) -> str:
    """Untrusted text made inert in Jira wiki markup: one line, every markup character escaped."""
    text = _WIKI_SPECIAL.sub(r"\\\1", _plain(value))
    return text.replace("@", "@\u200b")


def summary_wiki(report: Report, week: str, full_report: str | None = None, *, rows: int | None = None) -> str:
    table = _rows(report)[:rows]
    lines = [f"h2. {wiki_text(report.plan_name)}: weekly summary {week}", "", wiki_text(_intro(report)), "",
             "||" + "||".join(wiki_text(h) for h in HEADERS) + "||"]
    lines += ["|" + "|".join(wiki_text(c) or " " for c in row) + "|" for row in table]
    lines += [wiki_text(line) for line in _more(report, table)]
    lines += ["", "*Needs a decision*"]
    for d in (report.summary.decisions if report.summary else ()):
        url = safe_url(d.item.url)
        key = f"[{wiki_text(d.item.key)}|{url}]" if url else wiki_text(d.item.key)
        lines.append(f"* {key} {wiki_text(d.item.title)} ({wiki_text(d.milestone)}, "
                     f"{wiki_text(who(d.item.people))}): {wiki_text(d.why)}")
    if not report.summary or not report.summary.decisions:
        lines.append("* Nothing blocked or overdue in a milestone at risk.")
    url = safe_url(full_report)
    lines += ["", f"_{wiki_text(DECISION_RULE)}_", "",
              f"Full report: [HTML|{url}]" if url else wiki_text(_pointer_md(None)), "",
              f"{{color:#999999}}{comment_marker(week)}{{color}}"]
    return "\n".join(lines) + "\n"


# --- Atlassian Document Format (Jira Cloud, REST v3) ---

def _text(value: object, *marks: dict) -> dict | None:
    text = _plain(value)
    if not text:
        return None
    node: dict = {"type": "text", "text": text}
    if marks:
        node["marks"] = list(marks)
    return node


def _para(*parts: dict | None) -> dict:
    return {"type": "paragraph", "content": [p for p in parts if p is not None]}


def _cell(kind: str, value: str) -> dict:
    inner = _text(value, {"type": "strong"}) if kind == "tableHeader" else _text(value)
    return {"type": kind, "attrs": {}, "content": [_para(inner)]}


def _link(text: str, url: str | None) -> dict | None:
    target = safe_url(url)
    return _text(text, {"type": "link", "attrs": {"href": target}}) if target else _text(text)


def summary_adf(report: Report, week: str, full_report: str | None = None, *, rows: int | None = None) -> dict:
    table = _rows(report)[:rows]
    content: list[dict] = [
        {"type": "heading", "attrs": {"level": 2}, "content": [_text(f"{report.plan_name}: weekly summary {week}")]},
        _para(_text(_intro(report))),
        {"type": "table", "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
         "content": [{"type": "tableRow", "content": [_cell("tableHeader", h) for h in HEADERS]}]
         + [{"type": "tableRow", "content": [_cell("tableCell", c) for c in row]} for row in table]},
    ]
    content += [_para(_text(line)) for line in _more(report, table) if line]
    content.append(_para(_text("Needs a decision", {"type": "strong"})))
    items = []
    for d in (report.summary.decisions if report.summary else ()):
        items.append({"type": "listItem", "content": [_para(
            _link(d.item.key, d.item.url),
            _text(f" {d.item.title} ({d.milestone}, {who(d.item.people)}): {d.why}"))]})
    if not items:
        items.append({"type": "listItem", "content": [_para(_text("Nothing blocked or overdue in a milestone at risk."))]})
    content.append({"type": "bulletList", "content": items})
    content.append(_para(_text(DECISION_RULE, {"type": "em"})))
    content.append(_para(_link("Full report (HTML)", full_report) if safe_url(full_report)
                         else _text(_pointer_md(None))))
    content.append(_para(_text(comment_marker(week), {"type": "textColor", "attrs": {"color": "#97a0af"}})))
    return {"type": "doc", "version": 1, "content": content}


_RENDERERS: dict[str, Callable] = {"adf": summary_adf, "wiki": summary_wiki, "markdown": summary_markdown}


def size_of(body: str | dict) -> int:
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":"))) if isinstance(body, dict) else len(body)


def render_comment(report: Report, week: str, fmt: str, full_report: str | None = None, *,
                   limit: int | None = None) -> str | dict:
    """The week's summary in `fmt`, with milestone rows dropped from the end until it fits `limit`
    (the tracker kind's comment limit; default the format's)."""
    if fmt not in _RENDERERS:
        raise ValueError(f"unknown comment format {fmt!r}; expected one of {', '.join(FORMATS)}")
    render = _RENDERERS[fmt]
    rows = len(report.summary.milestones) if report.summary else 0
    body = render(report, week, full_report, rows=rows)
    limit = min(limit or LIMITS[fmt], LIMITS[fmt])
    while size_of(body) > limit and rows > 0:
        rows = rows // 2 if rows > 8 else rows - 1
        body = render(report, week, full_report, rows=rows)
    return body
