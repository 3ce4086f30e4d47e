"""Posting the week's summary as a comment on a named issue: opt-in, one comment per week, rendered in
the tracker's own format (the adapter's `comment_format`: "adf", "wiki" or "markdown").

The marker names the week, so a rerun finds and edits that week's comment instead of adding one.
This is plansync's one write outside the label prefix; `plansync plan` shows it via describe_publish.
"""

from __future__ import annotations

import logging
import re

from connector.report.comment import comment_marker, render_comment
from connector.report.model import Report
from connector.settings import PublishSettings
from connector.trackers import registry

log = logging.getLogger(__name__)

_WEEK = re.compile(r"^\d{4}-W\d{2}$")
_TRUNCATED = "\n\n_(The report was cut here to fit the tracker's comment limit; the full report is in the HTML and JSON files.)_\n"


def publish_marker(week: str) -> str:
    if not _WEEK.match(week):
        raise ValueError(f"not an ISO week label: {week!r}")
    return f"<!-- plansync:weekly-report {week} -->"


def comment_body(markdown: str, week: str, kind: str) -> str:
    """The marker line, then the report, cut at a line boundary to fit the tracker's limit."""
    marker = publish_marker(week)
    limit = registry.kind(kind).comment_limit - len(marker) - len(_TRUNCATED) - 1
    if len(markdown) > limit:
        markdown = markdown[: markdown.rfind("\n", 0, limit) + 1 or limit] + _TRUNCATED
    return f"{marker}\n{markdown}"


def publish_report(adapter, publish: PublishSettings, report: Report | str, week: str, *,
                   full_report: str | None = None) -> str:
    """Create, or edit if it exists, the week's report comment on `publish.issue`; returns its id.

    Given the Report, posts its summary natively; given Markdown text, posts that (cut to fit).
    `full_report` (an http(s) URL of the HTML report) is linked from the summary when given.
    """
    if adapter.name != publish.tracker:
        raise ValueError(f"publish goes to tracker {publish.tracker!r}, got the {adapter.name!r} adapter")
    if isinstance(report, Report):
        fmt = getattr(adapter, "comment_format", "markdown")
        body = render_comment(report, week, fmt, full_report, limit=registry.kind(adapter.kind).comment_limit)
        marker = publish_marker(week) if fmt == "markdown" else comment_marker(week)
    else:
        body, marker = comment_body(report, week, adapter.kind), publish_marker(week)
    comment_id = adapter.post_comment(publish.issue, marker, body)
    log.info("published the %s report on %s %s (comment %s)", week, publish.tracker, publish.issue, comment_id)
    return comment_id


def describe_publish(publish: PublishSettings | None, week: str, markdown: str | None = None) -> str:
    """One line for `plansync plan`: the comment write `run` would make (or that none is configured)."""
    if publish is None:
        return "report publishing is off (no [report.publish] in config.toml)"
    size = f", {len(markdown):,} characters" if markdown is not None else ""
    return (f"~ comment on {publish.tracker} {publish.issue}: weekly report {week} "
            f"(edits this week's comment if it exists, else creates it{size})")
