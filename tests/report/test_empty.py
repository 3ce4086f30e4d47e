"""A store with nothing in it yet (first run before any sync) still yields a complete, honest report."""

from __future__ import annotations

from connector.report import build_report, render_html, render_json, render_markdown
from tests.report import history as h


def test_report_on_an_empty_store(sqlite_store, settings):
    report = build_report(sqlite_store, h.PLAN_NOW, settings, now=h.NOW)
    assert report.item_count == 0 and report.changes == ()
    assert {f.tracker for f in report.stale_trackers} == {"github", "jira"}  # never synced
    assert all(m.progress.total == 0 for m in report.milestones)
    assert "has never synced successfully" in render_markdown(report)
    assert render_html(report).count('<svg role="img"') == 3
    assert '"item_count": 0' in render_json(report)
