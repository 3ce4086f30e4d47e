"""Each report section on a stored two-week history with known answers (see tests/report/history.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from connector.errors import ConfigError
from connector.report import build_report
from connector.report.build import iso_week, week_bounds
from tests.report import history as h

W48 = "2026-W48"


@pytest.fixture
def report(seeded, settings):
    return build_report(seeded, h.PLAN_NOW, settings, week=W48, now=h.NOW)


def keys(refs_or_changes) -> list[str]:
    return [getattr(x, "item", x).key for x in refs_or_changes]


def test_week_is_iso_week_in_plan_timezone_and_as_of_is_capped_at_now(report):
    start, end = week_bounds(W48, __import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # Monday 00:00 CET
    assert end - start == timedelta(days=7)
    assert report.label == W48
    assert report.period_start == start
    assert report.as_of == h.NOW  # the week is not over yet


def test_objective_leads_and_plan_name(report):
    assert report.plan_name == "Checkout revamp"
    assert report.objective.startswith("Ship the new checkout")


def test_changes_this_week(report):
    assert keys(report.changes_of("completed")) == ["CHK-1"]
    assert keys(report.changes_of("reopened")) == ["CHK-3"]
    slipped = report.changes_of("slipped")
    assert keys(slipped) == ["CHK-2"] and slipped[0].detail == "due 2026-12-01 → 2026-12-08"
    added = report.changes_of("added")
    assert sorted((c.item.key, c.milestone) for c in added) == [("acme/web#12", "beta"), ("acme/web#14", "beta")]
    removed = report.changes_of("removed")
    assert [(c.item.key, c.milestone) for c in removed] == [("acme/web#11", "ga")]
    status = {c.item.key: c.detail for c in report.changes_of("status")}
    assert status == {"CHK-1": "todo → done", "CHK-2": "in_progress → blocked", "CHK-3": "done → in_progress"}


def test_plan_changes_against_the_plan_declared_a_week_earlier(report):
    got = {(c.kind, c.milestone, c.detail) for c in report.plan_changes}
    assert got == {("due-moved", "beta", "due 2026-12-10 → 2026-12-15 (later)"),
                   ("milestone-added", "launch", "Launch party, due 2027-02-26")}


def test_milestone_health_progress_forecast_and_lists(report):
    beta = report.milestones[0]
    assert beta.key == "beta" and beta.due == date(2026, 12, 15)
    assert beta.health == "off-track"
    assert any("blocked" in reason for reason in beta.reasons)
    p = beta.progress
    assert (p.total, p.done, p.open, p.blocked, p.dropped) == (7, 2, 5, 1, 0)
    assert (p.points_total, p.points_done) == (10.0, 3.0)
    assert beta.forecast.p50 is not None and beta.forecast.p85 >= beta.forecast.p50
    assert keys(beta.at_risk) == ["CHK-2"]
    assert keys(beta.overdue) == ["acme/web#10"]
    assert beta.overdue[0].url == "https://github.example.test/acme/web/issues/10"
    assert [m.key for m in report.milestones] == ["beta", "ga", "launch"]


def test_burnup_scope_and_done_over_time(report):
    points = {p.day: p for p in report.milestones[0].burnup}
    assert min(points) == date(2026, 10, 5) and max(points) == date(2026, 11, 26)
    # before anything finished: CHK-1..3 and web#10, #13 are in Beta; web#12/#14 join on 24 Nov
    assert (points[date(2026, 11, 9)].scope, points[date(2026, 11, 9)].done) == (5, 0)
    assert points[date(2026, 11, 10)].done == 1  # CHK-3 resolved on 10 Nov
    assert points[date(2026, 11, 12)].done == 2  # web#13 resolved on 12 Nov
    # 24 Nov: CHK-1 done (+1), CHK-3 reopened (-1), web#12 and web#14 added
    assert (points[date(2026, 11, 24)].scope, points[date(2026, 11, 24)].done) == (7, 2)
    assert (points[date(2026, 11, 26)].scope, points[date(2026, 11, 26)].done) == (7, 2)
    ga = {p.day: p for p in report.milestones[1].burnup}
    assert ga[date(2026, 11, 23)].scope == 1 and ga[date(2026, 11, 24)].scope == 0  # web#11 left ga


def test_workload_across_trackers_with_unknown_assignees_apart(report):
    rows = {w.person: w for w in report.workload}
    dana = rows["dana"]
    assert (dana.known, dana.name, dana.open, dana.blocked, dana.points) == (True, "Dana K", 2, 1, 5.0)
    assert dana.by_tracker == {"github": 1, "jira": 1}
    assert (rows["lee"].open, rows["lee"].in_progress) == (1, 1)
    assert not rows["bob@example.com"].known and rows["bob@example.com"].open == 1
    assert not rows["stranger"].known
    assert rows["(unassigned)"].open == 2 and rows["(unassigned)"].unassigned
    known = [w.known for w in report.workload]
    assert known == sorted(known, reverse=True)  # people from plan.toml first


def test_unplanned_risks_and_drift(report):
    assert keys(report.unplanned) == ["acme/web#11", "CHK-4"]
    assert report.risks[0].mitigation == "Keep the fallback provider integration warm"
    assert len(report.drift) == 1
    drift = report.drift[0]
    assert drift.item.key == "acme/web#10" and [r.key for r in drift.related] == ["CHK-1"]


def test_freshness_names_the_stale_tracker(report):
    fresh = {f.tracker: f for f in report.freshness}
    assert fresh["github"].stale and fresh["github"].age_hours == 50.0
    assert not fresh["jira"].stale and fresh["jira"].age_hours == 3.0
    assert [f.tracker for f in report.stale_trackers] == ["github"]


def test_stale_threshold_comes_from_settings(seeded, settings):
    settings.sync.stale_after_hours = 72
    report = build_report(seeded, h.PLAN_NOW, settings, week=W48, now=h.NOW)
    assert report.stale_trackers == ()


def test_a_past_week_is_reproduced_from_history(seeded, settings):
    """W47 as of its end: the first sync's state, the plan declared then, and the GitHub scopes then."""
    report = build_report(seeded, h.PLAN_NOW, settings, week="2026-W47", now=h.NOW)
    assert report.as_of == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert [m.key for m in report.milestones] == ["beta", "ga"]  # "launch" was declared later
    assert report.milestones[0].due == date(2026, 12, 10)
    beta = report.milestones[0]
    assert (beta.progress.total, beta.progress.done) == (5, 2)
    assert keys(report.unplanned) == ["acme/web#12", "CHK-4"]  # web#12 joined Beta only in W48
    # the store first met every item during W47 (the T1 sync): all of it is new to the plan
    assert {c.kind for c in report.changes} == {"added"}
    assert "CHK-3" in keys(report.changes)  # done on 10 Nov, before the week: not "completed" in W47
    assert report.plan_changes == ()
    assert any("Jira scope membership" in note for note in report.limitations)


def test_as_of_an_instant_reports_the_seven_days_before(seeded, settings):
    instant = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    report = build_report(seeded, h.PLAN_NOW, settings, as_of=instant, now=h.NOW)
    assert report.as_of == instant and report.period_start == instant - timedelta(days=7)
    assert report.label == iso_week(instant, __import__("zoneinfo").ZoneInfo("Europe/Berlin")) == W48
    assert keys(report.changes_of("completed")) == ["CHK-1"]


def test_same_inputs_give_the_same_report(seeded, settings):
    one = build_report(seeded, h.PLAN_NOW, settings, week=W48, now=h.NOW)
    two = build_report(seeded, h.PLAN_NOW, settings, week=W48, now=h.NOW)
    assert one == two


@pytest.mark.parametrize("kwargs, message", [
    ({"week": "2026-48"}, "ISO week"),
    ({"week": "2027-W02"}, "not started"),
    ({"week": W48, "as_of": h.NOW}, "either"),
])
def test_bad_week_arguments_are_config_errors(seeded, settings, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        build_report(seeded, h.PLAN_NOW, settings, now=h.NOW, **kwargs)


def test_an_item_deleted_this_week_is_removed_from_scope(seeded, settings):
    from connector.model import Presence
    from connector.values import Gone, PullResult

    deleted_at = h.T2 + timedelta(hours=1)
    seeded.save_pull(None, PullResult("github", (), gone=(Gone("github", "913", Presence.DELETED),)), deleted_at)
    report = build_report(seeded, h.PLAN_NOW, settings, week=W48, now=h.NOW)
    removed = [(c.item.key, c.milestone) for c in report.changes_of("removed")]
    assert ("acme/web#13", "beta") in removed
    assert report.milestones[0].progress.total == 6
    burn = {p.day: p for p in report.milestones[0].burnup}
    assert (burn[date(2026, 11, 23)].scope, burn[date(2026, 11, 23)].done) == (5, 2)
    assert (burn[date(2026, 11, 26)].scope, burn[date(2026, 11, 26)].done) == (6, 1)  # web#13 no longer counts


def test_report_on_both_store_engines(store, settings, monkeypatch):
    """The same known answers on SQLite and PostgreSQL (PostgreSQL when PLANSYNC_TEST_DATABASE_URL is set)."""
    h.seed(store, monkeypatch)
    report = build_report(store, h.PLAN_NOW, settings, week=W48, now=h.NOW)
    assert keys(report.changes_of("completed")) == ["CHK-1"]
    assert keys(report.changes_of("reopened")) == ["CHK-3"]
    assert [f.tracker for f in report.stale_trackers] == ["github"]
    assert report.milestones[0].burnup[-1].scope == 7
