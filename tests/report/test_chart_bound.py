"""Issue #17 item 10: the report renders a bounded number of charts (a plan of 2,000 milestones took
100 s); milestones past the bound are reported without one, in every format, and JSON renders none."""

from __future__ import annotations

from dataclasses import replace

from connector.report import build_report, write_report
from connector.report import html as html_module
from tests.report import history as h


def test_charts_are_bounded_and_json_renders_none(seeded, settings, tmp_path, monkeypatch):
    report = build_report(seeded, h.PLAN_NOW, settings, week="2026-W48", now=h.NOW)
    many = replace(report, milestones=tuple(replace(report.milestones[0], key=f"m{n}") for n in range(5)))
    assert list(html_module.chart_svgs(many, limit=3)) == ["m0", "m1", "m2"]

    rendered: list[int] = []
    original = html_module.burnup_svg
    monkeypatch.setattr(html_module, "burnup_svg", lambda *a, **k: rendered.append(1) or original(*a, **k))
    write_report(many, tmp_path / "json-only", ("json",))
    assert rendered == []  # JSON needs no chart
    monkeypatch.setattr(html_module, "MAX_CHARTS", 2)
    monkeypatch.setattr(html_module.chart_svgs, "__defaults__", (2,))
    paths = write_report(many, tmp_path / "md", ("md",))
    assert len(rendered) == 2
    assert sorted(p.name for p in (tmp_path / "md").rglob("*burnup*.svg")) == sorted(
        f"plansync-report-{many.label}-burnup-m{n}.svg" for n in range(2))
    assert "Burn-up chart: see the HTML report." in paths["md"].read_text()
