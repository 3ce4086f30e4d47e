from connector.report import build_report, render_markdown, write_report
from tests.report import history as h

def test_dump(seeded, settings, tmp_path):
    r = build_report(seeded, h.PLAN_NOW, settings, week="2026-W48", now=h.NOW)
    open("/tmp/wt-report-dump.md", "w").write(render_markdown(r))
    write_report(r, "/tmp/wt-report-out", ["md", "html", "json"])
