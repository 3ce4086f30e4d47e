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
    page = render_html(report)
    assert page.count('class="burnup"') == 3 and page.count('class="timeline"') == 1
    assert 'class="histogram"' not in page  # nothing sampled, nothing to draw
    assert all(s.health_then is not None and s.added == s.finished == 0 for s in report.summary.milestones)
    assert '"item_count": 0' in render_json(report)
