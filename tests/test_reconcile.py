"""Golden scenarios for reconcile: health, findings and desired labels from constructed plans and items."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from connector.model import Presence, Status
from connector.reconcile import NO_ITEMS, Health, reconcile
from connector.trackers.github.scopes import GithubScope
from connector.trackers.jira.scopes import JiraScope
from tests.test_reconcile_builders import (
    GH_SCOPE,
    GH_WATCH,
    JIRA_SCOPE,
    JIRA_WATCH,
    NOW,
    gh,
    gh_milestone,
    jira,
    jira_version,
    members_for,
    milestone,
    plan,
)


def history(first: int = 100, days: int = 40):
    """Done Jira items finished one per day over the last `days` days: a steady throughput of 1/day."""
    return [jira(first + n, Status.DONE, resolved=NOW - timedelta(days=n, hours=1)) for n in range(days)]


def run(the_plan, items, *, jira_beta=None, jira_watch=None, milestones=(), now=NOW, events=(), **kw):
    """Reconcile with the Jira pull having returned `jira_beta` for the beta JQL and every CHK item for the watch."""
    if jira_beta is None:
        jira_beta = [i.key for i in items if i.tracker == "jira"]
    if jira_watch is None:
        jira_watch = [i.key for i in items if i.tracker == "jira"]
    members = members_for(items, (JIRA_SCOPE, jira_beta), (JIRA_WATCH, jira_watch))
    return reconcile(the_plan, items, members, milestones, events, now=now, **kw)


def kinds(rec, kind):
    return [f for f in rec.findings if f.kind == kind]


def test_due_date_passed_with_open_items_is_off_track():
    items = [jira(1), jira(2, Status.DONE), *history()]
    rec = run(plan(milestone(due=date(2026, 11, 20))), items)
    beta = rec.milestone("beta")
    assert beta.health is Health.OFF_TRACK
    assert beta.reasons[0] == "the due date 2026-11-20 has passed with 1 item open"
    assert rec.desired_labels[jira(1).uid] == {"plan:off-track", "plan:overdue"}
    assert [f.item for f in kinds(rec, "overdue")] == [jira(1).uid]


def test_every_item_done_or_dropped_is_done_and_carries_no_labels():
    items = [jira(1, Status.DONE, labels=("plan:at-risk", "team-x")), jira(2, Status.DROPPED), gh(7, Status.DONE)]
    rec = run(plan(), items)
    beta = rec.milestone("beta")
    assert beta.health is Health.DONE
    assert beta.progress.done == 2 and beta.progress.dropped == 1 and beta.progress.open == 0
    assert beta.forecast.method == "complete"
    assert all(rec.desired_labels[i.uid] == frozenset() for i in items)


def test_milestone_without_items_is_at_risk():
    rec = run(plan(milestone(scope=(JiraScope(tracker="jira", jql="project = NONE"),))), [jira(1)], jira_beta=[])
    assert rec.milestone("beta").health is Health.AT_RISK
    assert rec.milestone("beta").reasons == (NO_ITEMS,)


def test_blocked_item_makes_its_milestone_at_risk():
    items = [jira(1), jira(3, Status.BLOCKED, raw_status="Blocked"), gh(12, Status.BLOCKED), *history()]
    rec = run(plan(), items)
    beta = rec.milestone("beta")
    assert beta.health is Health.AT_RISK
    assert "2 items blocked: acme/checkout-web#12, CHK-3" in beta.reasons
    assert rec.desired_labels[jira(1).uid] == {"plan:at-risk"}
    blocked = kinds(rec, "blocked")
    assert [f.item for f in blocked] == [gh(12).uid, jira(3).uid]  # by tracker, then key
    assert blocked[1].message == "CHK-3 is blocked (Blocked)" and blocked[1].milestone == "beta"


def test_healthy_milestone_is_on_track():
    items = [jira(1), gh(2), *history()]
    rec = run(plan(), items)
    beta = rec.milestone("beta")
    assert beta.health is Health.ON_TRACK, beta.reasons
    assert beta.forecast.method == "monte-carlo"
    assert rec.desired_labels[gh(2).uid] == {"plan:on-track"}
    assert not rec.findings


def test_linked_pair_with_one_side_closed_is_cross_tracker_drift():
    items = [jira(5, Status.DONE, links=("acme/checkout-web#7",)), gh(7),  # linked from the Jira side
             jira(6), gh(8, Status.DONE, links=("chk-6",)),  # from the GitHub side, key case ignored
             jira(9, links=("acme/checkout-web#10",)), gh(10),  # both open: no drift
             *history()]
    rec = run(plan(), items)
    drift = kinds(rec, "cross-tracker-drift")
    assert [(f.item, f.related) for f in drift] == [(gh(7).uid, jira(5).uid), (jira(6).uid, gh(8).uid)]
    assert drift[0].message == ("acme/checkout-web#7 (github) is todo but the linked CHK-5 (jira) is done")
    assert drift[0].milestone == "beta"


def test_link_to_item_outside_every_scope_still_counts():
    outside = gh(3, Status.DROPPED, repo="acme/other", milestones=())
    rec = run(plan(), [jira(1, links=("acme/other#3",)), outside, *history()])
    assert [(f.item, f.related) for f in kinds(rec, "cross-tracker-drift")] == [(jira(1).uid, outside.uid)]
    assert outside.uid not in rec.desired_labels


def test_watch_scope_item_in_no_milestone_gets_unplanned():
    stray_jira, stray_gh = jira(99), gh(40, milestones=())
    closed_stray = gh(41, Status.DONE, milestones=(), labels=("plan:unplanned",))
    items = [jira(1), stray_jira, stray_gh, closed_stray, *history()]
    rec = run(plan(), items, jira_beta=["CHK-1", *[i.key for i in history()]])
    assert rec.desired_labels[stray_jira.uid] == {"plan:unplanned"}
    assert rec.desired_labels[stray_gh.uid] == {"plan:unplanned"}
    assert rec.desired_labels[closed_stray.uid] == frozenset()
    assert rec.unplanned == {stray_jira.uid, stray_gh.uid, closed_stray.uid}
    assert [f.item for f in kinds(rec, "unplanned")] == [stray_gh.uid, stray_jira.uid]
    assert stray_jira.uid not in rec.membership


def test_items_outside_every_scope_and_absent_items_are_not_touched():
    other_repo = gh(1, repo="acme/other")
    deleted = jira(2, presence=Presence.DELETED)
    rec = run(plan(), [other_repo, deleted, jira(3), *history()])
    assert other_repo.uid not in rec.desired_labels and other_repo.uid not in rec.items
    assert deleted.uid not in rec.desired_labels and deleted.uid not in rec.membership


def test_pull_requests_are_never_members_and_lose_owned_labels():
    pr = gh(77, type="pull_request", is_pull_request=True, labels=("plan:on-track", "review"))
    rec = run(plan(), [jira(1), pr, *history()])
    assert pr.uid not in rec.membership
    assert pr.uid not in rec.milestone("beta").items
    assert rec.desired_labels[pr.uid] == frozenset()
    assert pr.uid not in rec.unplanned


def test_milestone_date_drift_for_github_milestone_and_jira_version():
    tracker_side = [gh_milestone("Beta", date(2026, 12, 20)), jira_version("Beta", date(2026, 12, 15)),
                    gh_milestone("Beta", date(2026, 1, 1), repo="acme/elsewhere")]
    rec = run(plan(), [jira(1), *history()], milestones=tracker_side)
    drift = kinds(rec, "milestone-date-drift")
    assert [f.message for f in drift] == ["github milestone 'Beta' in acme/checkout-web is due 2026-12-20, "
                                          "5 days later than plan milestone beta (2026-12-15)"]
    rec = run(plan(), [jira(1), *history()], milestones=[jira_version("Beta", date(2026, 12, 1))])
    assert [f.message for f in kinds(rec, "milestone-date-drift")] == [
        "jira version 'Beta' in CHK is due 2026-12-01, 14 days earlier than plan milestone beta (2026-12-15)"]
    rec = run(plan(), [jira(1), *history()], milestones=[jira_version("Beta", date(2026, 12, 1), container="OTHER")])
    assert not kinds(rec, "milestone-date-drift")  # the JQL names project CHK


def test_dependency_due_later_and_dependency_off_track_are_risks():
    beta = milestone(due=date(2027, 1, 10))
    ga = milestone("ga", due=date(2026, 12, 20), scope=(JiraScope(tracker="jira", items=("CHK-50",)),),
                   depends_on=("beta",))
    rec = run(plan(beta, ga), [jira(1), jira(50), *history()])
    assert [f.message for f in kinds(rec, "dependency-risk")] == [
        "milestone ga (due 2026-12-20) depends on beta, which is due later (2027-01-10)"]

    late_beta = milestone(due=date(2026, 11, 1))
    ga2 = milestone("ga", due=date(2026, 12, 20), scope=(JiraScope(tracker="jira", items=("CHK-50",)),),
                    depends_on=("beta",))
    rec = run(plan(late_beta, ga2), [jira(1), jira(50), *history()])
    assert rec.milestone("beta").health is Health.OFF_TRACK
    risk = kinds(rec, "dependency-risk")
    assert len(risk) == 1 and risk[0].milestone == "ga" and "which is off-track" in risk[0].message


def test_stale_in_progress_item():
    items = [jira(1, Status.IN_PROGRESS, updated=NOW - timedelta(days=20)),
             jira(2, Status.IN_PROGRESS, updated=NOW - timedelta(days=5)),
             jira(3, Status.TODO, updated=NOW - timedelta(days=90)), *history()]
    rec = run(plan(), items)
    assert [(f.item, f.message) for f in kinds(rec, "stale")] == [
        (jira(1).uid, "CHK-1 is in progress with no update for 20 days (since 2026-11-06)")]
    assert [f.item for f in kinds(run(plan(), items, stale_days=3), "stale")] == [jira(1).uid, jira(2).uid]


def test_overdue_item_and_due_after_milestone():
    items = [jira(1, due=date(2026, 11, 20)), jira(2, due=date(2026, 12, 31)), jira(3, Status.DONE,
             due=date(2026, 11, 1)), *history()]
    rec = run(plan(), items)
    assert [(f.item, f.message) for f in kinds(rec, "overdue")] == [
        (jira(1).uid, "CHK-1 is overdue: past its due date 2026-11-20")]
    assert [f.item for f in kinds(rec, "due-after-milestone")] == [jira(2).uid]
    assert rec.desired_labels[jira(1).uid] == {"plan:at-risk", "plan:overdue"}
    assert rec.desired_labels[jira(2).uid] == {"plan:at-risk"}
    assert "1 item overdue: CHK-1" in rec.milestone("beta").reasons


def test_dates_are_compared_in_the_plan_timezone():
    # 23:30 UTC on the 26th is already the 27th in Berlin: a milestone due the 26th has passed there.
    late_evening = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    items = [jira(1), *history()]
    berlin = run(plan(milestone(due=date(2026, 11, 26))), items, now=late_evening)
    utc = run(plan(milestone(due=date(2026, 11, 26)), timezone="UTC"), items, now=late_evening)
    assert berlin.today == date(2026, 11, 27) and berlin.milestone("beta").health is Health.OFF_TRACK
    assert utc.today == date(2026, 11, 26) and utc.milestone("beta").health is not Health.OFF_TRACK


def test_worst_health_label_where_an_item_is_in_several_milestones():
    shared = jira(1)
    late = milestone("late", due=date(2026, 11, 1), scope=(JiraScope(tracker="jira", items=("CHK-1",)),))
    rec = run(plan(milestone(), late), [shared, jira(2), *history()])
    assert rec.membership[shared.uid] == ("beta", "late")
    assert rec.desired_labels[shared.uid] == {"plan:off-track", "plan:overdue"}
    assert rec.desired_labels[jira(2).uid] == {"plan:at-risk"}  # beta: CHK-1 is overdue
    assert rec.primary_milestone(shared.uid) == "late"


def test_github_scopes_are_evaluated_locally_case_insensitively():
    by_label = GithubScope(tracker="github", repo="ACME/Checkout-Web", label="Beta-Scope")
    by_items = GithubScope(tracker="github", repo="acme/checkout-web", items=("acme/checkout-web#3",))
    jira_items = JiraScope(tracker="jira", items=("CHK-4",))
    ms = milestone(scope=(by_label, by_items, jira_items))
    items = [gh(1, labels=("beta-scope",), milestones=()), gh(2, milestones=()), gh(3, milestones=()), jira(4),
             jira(5), gh(6, repo="acme/other", labels=("beta-scope",))]
    rec = reconcile(plan(ms, watch=()), items, {}, (), (), now=NOW)
    assert rec.milestone("beta").items == (gh(1).uid, gh(3).uid, jira(4).uid)
    assert set(rec.desired_labels) == {gh(1).uid, gh(3).uid, jira(4).uid}


def test_scope_missing_from_members_means_no_members_yet():
    rec = reconcile(plan(milestone(scope=(JIRA_SCOPE,)), watch=()), [jira(1)], {}, (), (), now=NOW)
    assert rec.milestone("beta").progress.total == 0
    assert rec.desired_labels == {}


def test_progress_counts_items_and_points():
    items = [jira(1, estimate=3.0), jira(2, Status.DONE, estimate=5.0), jira(3, Status.DROPPED, estimate=8.0),
             jira(4, Status.BLOCKED), gh(5, Status.DONE)]
    rec = run(plan(milestone(scope=(JIRA_SCOPE, GH_SCOPE)), watch=(GH_WATCH,)), items)
    p = rec.milestone("beta").progress
    assert (p.total, p.done, p.dropped, p.open, p.blocked) == (5, 2, 1, 2, 1)
    assert (p.points_total, p.points_done) == (8.0, 5.0)


def test_findings_order_is_deterministic():
    items = [jira(12, Status.BLOCKED), jira(2, Status.BLOCKED), gh(7, Status.BLOCKED), jira(1, due=date(2026, 1, 1)),
             *history()]
    first = run(plan(), items)
    second = run(plan(), list(reversed(items)))
    assert first.findings == second.findings
    assert [f.kind for f in first.findings] == ["overdue", "blocked", "blocked", "blocked"]
    assert [f.item for f in kinds(first, "blocked")] == [gh(7).uid, jira(2).uid, jira(12).uid]


def test_reconcile_leaves_the_garbage_collector_as_it_found_it():
    import gc

    items = [jira(1), *history()]
    assert gc.isenabled()
    run(plan(), items)
    assert gc.isenabled()
    gc.disable()
    try:
        run(plan(), items)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_natural_key_orders_numbers_as_numbers_and_agrees_with_the_general_rule():
    from hypothesis import given
    from hypothesis import strategies as st

    from connector.findings import _DIGITS, natural_key

    keys = ["CHK-12", "CHK-2", "chk-3", "acme/web#10", "acme/web#9", "acme/web2#1", "A-1-10", "A-1-2"]
    assert sorted(keys, key=natural_key) == ["A-1-2", "A-1-10", "acme/web2#1", "acme/web#9", "acme/web#10",
                                             "CHK-2", "chk-3", "CHK-12"]

    def general(text):
        out = []
        for part in _DIGITS.split(text):
            if part:
                out += (0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
        return tuple(out)

    @given(st.text(alphabet="AB-/#019x", max_size=12))
    def fast_path_matches(text):
        assert natural_key(text) == general(text)

    fast_path_matches()


def test_naive_now_is_refused():
    import pytest

    with pytest.raises(ValueError, match="timezone-aware"):
        run(plan(), [jira(1)], now=NOW.replace(tzinfo=None))


def test_an_item_that_left_every_scope_loses_the_owned_labels_we_gave_it():
    from datetime import UTC, date, datetime

    from connector.changes import plan_changes
    from connector.model import Plan, PlanHeader, PlanMilestone, Status, WorkItem
    from connector.reconcile import reconcile
    from connector.trackers.github.scopes import GithubScope

    now = datetime(2026, 11, 20, tzinfo=UTC)
    plan = Plan(plan=PlanHeader(name="p"), milestones=(PlanMilestone(
        key="beta", title="Beta", due=date(2026, 12, 1),
        scope=(GithubScope(tracker="gh", repo="acme/web", milestone="Beta"),)),))
    moved = WorkItem(tracker="gh", id="1", key="acme/web#1", container="acme/web", url="https://x/1", title="t",
                     type="issue", status=Status.TODO, raw_status="open", created=now, updated=now,
                     labels=("plan:at-risk", "customer"), milestones=("GA",))
    rec = reconcile(plan, [moved], {}, [], [], now=now, prefix="plan:")
    changes = plan_changes(rec, "plan:").changes
    assert [(c.key, c.add, c.remove) for c in changes] == [("acme/web#1", frozenset(), frozenset({"plan:at-risk"}))]
