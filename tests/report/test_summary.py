"""The summary first: then → now per milestone, counted from the same rows as the detailed sections,
on the known two-week history and on the demo's two runs; people by name; the timeline as data."""

from __future__ import annotations

import json
from datetime import date

import pytest

from connector.report import build_report, render_html, render_markdown
from connector.report.model import DECISION_LIMIT
from connector.report.summary import milestone_keys
from tests.report import history as h


@pytest.fixture
def report(seeded, settings):
    return build_report(seeded, h.PLAN_NOW, settings, week="2026-W48", now=h.NOW)


def _cross_check(report) -> None:
    """Every number in the summary equals what the detailed sections show."""
    assert [s.key for s in report.summary.milestones] == [m.key for m in report.milestones]
    for s, m in zip(report.summary.milestones, report.milestones, strict=True):
        assert (s.health_now, s.p50_now, s.p85_now, s.due) == (m.health, m.forecast.p50, m.forecast.p85, m.due)
        assert s.added == sum(1 for c in report.changes_of("added") if c.milestone == m.key)
        assert s.finished == sum(1 for c in report.changes_of("completed") if m.key in milestone_keys(c))
        blocked_now = {(i.tracker, i.id) for i in m.at_risk if i.status == "blocked"}
        assert {(i.tracker, i.id) for i in s.newly_blocked} <= blocked_now
    assert len(report.summary.decisions) <= DECISION_LIMIT


def test_summary_numbers_equal_the_detailed_sections_and_the_week_before(report, seeded, settings):
    _cross_check(report)
    then = build_report(seeded, h.PLAN_NOW, settings, as_of=report.period_start, now=h.NOW)
    by_key = {m.key: m for m in then.milestones}
    for s in report.summary.milestones:
        if s.key in by_key:  # "launch" was added to the plan this week
            before = by_key[s.key]
            assert (s.health_then, s.p50_then, s.p85_then) == (before.health, before.forecast.p50,
                                                                before.forecast.p85)


def test_the_known_week_reads_as_it_happened(report):
    beta, ga, launch = report.summary.milestones
    assert (beta.added, beta.finished) == (2, 1)
    assert [i.key for i in beta.newly_blocked] == ["CHK-2"]
    assert launch.health_then is None  # new in the plan this week
    assert beta.p50_moved == (beta.p50_now - beta.p50_then).days
    decisions = [(d.item.key, d.milestone, d.why.split(":")[0]) for d in report.summary.decisions]
    # newly blocked outranks overdue (model.DECISION_RULE)
    assert decisions == [("CHK-2", "beta", "newly blocked"), ("acme/web#10", "beta", "overdue")]


def test_markdown_and_html_open_with_the_summary_and_fold_long_lists(report):
    md = render_markdown(report)
    summary, details = md.split("## Milestones", 1)
    assert "## Summary: what changed since last week" in summary
    for s in report.summary.milestones:
        assert f"| {s.key}: " in summary
    assert "| beta: Public beta | OFF TRACK → OFF TRACK |" in summary
    assert "| launch: Launch party | new → AT RISK |" in summary
    assert "**Needs a decision (2)**" in summary and "## What changed this week" in details
    page = render_html(report)
    assert page.index('id="summary"') < page.index('id="milestones"') < page.index('id="changes"')


def test_html_folds_lists_longer_than_ten_rows(report):
    from dataclasses import replace

    many = replace(report, unplanned=report.unplanned * 8)
    page = render_html(many)
    assert f"<details><summary>Show all {len(many.unplanned)}</summary>" in page
    assert "<details>" not in render_html(report).split('id="unplanned"')[1].split("</h2>", 1)[1][:200]


def test_people_are_shown_by_name_and_unknown_identities_as_they_are_marked(report):
    beta = report.milestones[0]
    chk2 = next(i for i in beta.at_risk if i.key == "CHK-2")
    assert [(p.name, p.known) for p in chk2.people] == [("Dana K", True)]  # from dana@example.com
    md = render_markdown(report)
    assert "dana@example.com" not in md and "dana-k" not in md
    assert "| Dana K |" in md
    refs = [i for i in report.unplanned if i.key == "CHK-4"] + list(report.unplanned)
    stranger = [p for r in refs for p in r.people if not p.known]
    assert all(p.name for p in stranger)


def test_the_timeline_is_data_in_json_and_an_image_in_markdown(report, tmp_path):
    from connector.report import render_json, write_report

    rows = {r.key: r for r in report.timeline}
    assert rows["beta"].start == date(2026, 10, 5) and rows["beta"].due == date(2026, 12, 15)
    assert (rows["beta"].p50, rows["beta"].p85) == (report.milestones[0].forecast.p50,
                                                    report.milestones[0].forecast.p85)
    data = json.loads(render_json(report))
    assert [r["key"] for r in data["timeline"]] == ["beta", "ga", "launch"]
    assert data["summary"]["milestones"][0]["p50_moved_days"] == report.summary.milestones[0].p50_moved
    md = write_report(report, tmp_path, ["md"])["md"].read_text()
    assert md.index("![milestone timeline]") < md.index("## Milestones")


def test_a_dependency_starts_its_dependants_planned_window(seeded, settings):
    from connector.model import Plan

    raw = h.PLAN_NOW.model_dump()
    raw["milestones"][1]["depends_on"] = ["beta"]
    plan = Plan.model_validate(raw)
    report = build_report(seeded, plan, settings, week="2026-W48", now=h.NOW)
    ga = next(r for r in report.timeline if r.key == "ga")
    assert ga.start == date(2026, 12, 15) and ga.depends_on == ("beta",)


def test_the_demos_two_runs_summary_names_every_milestone_with_its_transition(tmp_path):
    from connector.sandbox.demo import run_demo

    assert run_demo(tmp_path / "demo", scale=600, seed=7) == 0
    out = tmp_path / "demo" / "reports"
    weeks = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(weeks) == 2  # one folder per run's ISO week
    data = json.loads((out / "latest.json").read_text())
    summary, milestones = data["summary"]["milestones"], data["milestones"]
    assert [s["key"] for s in summary] == [m["key"] for m in milestones]
    for s, m in zip(summary, milestones, strict=True):
        assert (s["health_now"], s["p50_now"], s["p85_now"]) == (m["health"], m["forecast"]["p50"],
                                                                 m["forecast"]["p85"])
        assert s["added"] == sum(1 for c in data["changes"] if c["kind"] == "added" and c["milestone"] == m["key"])
        assert s["finished"] == sum(1 for c in data["changes"] if c["kind"] == "completed"
                                    and m["key"] in (c["milestone"] or "").split(", "))
    md = (out / "latest.md").read_text()
    head = md.split("## Milestones", 1)[0]
    for s in summary:
        assert f"| {s['key']}: " in head and " → " in head
    assert sum(s["added"] + s["finished"] for s in summary) > 0  # a week of work happened
    assert len(md.encode()) < 40_000  # the Monday read is shorter than the old 40 KB dump
    index = (out / "index.html").read_text()
    assert all(f'href="{w}/plansync-report-{w}.html"' in index for w in weeks)
