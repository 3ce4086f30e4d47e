"""The change plan: owned-label diffs, ordering, the safety threshold and the renderers."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from connector.changes import ChangePlan, check_safety, plan_changes
from connector.errors import ExitCode, UnsafePlan
from connector.model import Status
from connector.plan_render import render_json, render_text
from connector.reconcile import reconcile
from connector.trackers.github.scopes import GithubScope
from connector.trackers.jira.scopes import JiraScope
from tests.test_reconcile_builders import JIRA_SCOPE, JIRA_WATCH, NOW, gh, jira, members_for, milestone, plan


def history():
    return [jira(100 + n, Status.DONE, resolved=NOW - timedelta(days=n, hours=1)) for n in range(40)]


def reconciled(items, the_plan=None):
    keys = [i.key for i in items if i.tracker == "jira"]
    return reconcile(the_plan or plan(), items, members_for(items, (JIRA_SCOPE, keys), (JIRA_WATCH, keys)), (), (),
                     now=NOW)


def test_diff_adds_and_removes_only_owned_labels():
    items = [jira(1, Status.BLOCKED, labels=("plan:on-track", "team-payments", "Plan:legacy")),
             jira(2, Status.DONE, labels=("plan:at-risk", "release-notes")),
             jira(3, labels=("plan:at-risk",)),  # already right: no change
             gh(4, labels=("plan-ish", "planning")), *history()]
    result = plan_changes(reconciled(items), "plan:")
    by_key = {c.key: c for c in result.changes}
    assert set(by_key) == {"CHK-1", "CHK-2", "acme/checkout-web#4"}
    assert (by_key["CHK-1"].add, by_key["CHK-1"].remove) == ({"plan:at-risk"}, {"plan:on-track"})
    assert (by_key["CHK-2"].add, by_key["CHK-2"].remove) == (frozenset(), {"plan:at-risk"})
    assert by_key["acme/checkout-web#4"].add == {"plan:at-risk"} and not by_key["acme/checkout-web#4"].remove
    assert tuple(map(str, by_key["CHK-1"].reasons)) == ("milestone beta is at-risk: 1 item blocked: CHK-1",)
    assert tuple(map(str, by_key["CHK-2"].reasons)) == ("done: owned labels are for open work only",)
    assert result.items_in_scope == 44 and result.items_labelled_now == 3


def test_changes_sorted_by_tracker_then_milestone_then_key():
    late = milestone("late", due=date(2026, 11, 1), scope=(JiraScope(tracker="jira", items=("CHK-12", "CHK-3")),))
    items = [jira(12), jira(3), jira(2), jira(30), gh(10), gh(9), *history()]
    the_plan = plan(milestone(scope=(JIRA_SCOPE, GithubScope(tracker="github", repo="acme/checkout-web",
                                                        milestone="Beta"))), late)
    keys = [i.key for i in items if i.tracker == "jira" and i.key not in ("CHK-30",)]
    members = members_for(items, (JIRA_SCOPE, keys), (JIRA_WATCH, [i.key for i in items if i.tracker == "jira"]))
    rec = reconcile(the_plan, items, members, (), (), now=NOW)
    result = plan_changes(rec, "plan:")
    order = [(c.tracker, result.milestones[(c.tracker, c.item_id)], c.key) for c in result.changes]
    assert order == [("github", "beta", "acme/checkout-web#9"), ("github", "beta", "acme/checkout-web#10"),
                     ("jira", "beta", "CHK-2"), ("jira", "late", "CHK-3"), ("jira", "late", "CHK-12"),
                     ("jira", None, "CHK-30")]
    assert list(result.by_tracker()) == ["github", "jira"]


def test_render_text_groups_and_summarises():
    items = [jira(1, Status.BLOCKED, title="Fix the thing", labels=("plan:on-track",)), jira(7, title="Add \x1b[31mred"),
             jira(2, Status.DONE, labels=("plan:at-risk",)), *history()]
    rec = reconciled(items)
    text = render_text(plan_changes(rec, "plan:"), rec)
    lines = text.splitlines()
    assert lines[0] == "jira:"
    assert lines[1] == "  milestone beta (Beta, due 2026-12-15): at-risk"
    assert lines[2] == "    because: 1 item blocked: CHK-1"  # the milestone's reasons, once per group
    assert lines[3] == "    + plan:at-risk   CHK-1  [health] Fix the thing"  # not repeated on each line
    assert lines[4].startswith("    - plan:on-track  CHK-1  [health] Fix the thing")
    assert "- plan:at-risk   CHK-2" in text and "done: owned labels are for open work only" in text
    assert "\x1b" not in text  # untrusted titles cannot drive the terminal
    assert lines[-2] == "Plan: 2 labels to add, 2 to remove, on 3 items."
    assert lines[-1] == "guarded: 0 of 43 items, 0.0 %, limit 30 % and 10 (first apply, not counted: jira)"


def test_no_changes_renders_the_all_clear():
    items = [jira(1, labels=("plan:on-track",)), *history()]
    rec = reconciled(items)
    result = plan_changes(rec, "plan:")
    assert result.changes == () and result.share == 0.0
    assert render_text(result, rec) == (
        "jira: adopting 1 item(s) already labelled by an earlier installation\n"
        "No changes. Trackers match the plan.\n"
        "guarded: 0 of 41 items, 0.0 %, limit 30 % and 10 (first apply, not counted: jira)\n")
    assert json.loads(render_json(result))["changes"] == []


def test_render_json_is_complete_and_sorted():
    items = [jira(1, labels=("plan:off-track", "x")), gh(2, Status.DONE, labels=("plan:on-track",)), *history()]
    doc = json.loads(render_json(plan_changes(reconciled(items), "plan:")))
    assert doc["changes"][0] == {"tracker": "github", "item_id": "500002", "key": "acme/checkout-web#2",
                                 "milestone": "beta", "cause": "status", "add": [], "remove": ["plan:on-track"],
                                 "reasons": ["done: owned labels are for open work only"]}
    assert doc["changes"][1]["add"] == ["plan:on-track"] and doc["changes"][1]["remove"] == ["plan:off-track"]
    assert doc["summary"] == {"labels_to_add": 1, "labels_to_remove": 2, "items_changed": 2, "items_in_scope": 42,
                              "items_labelled_now": 2, "share": round(2 / 42, 6)}


def test_custom_prefix_owns_only_its_labels():
    items = [jira(1, labels=("plan:on-track", "ops/at-risk")), *history()]
    rec = reconcile(plan(), items, members_for(items, (JIRA_SCOPE, [i.key for i in items])), (), (), now=NOW,
                    prefix="ops/")
    (change,) = plan_changes(rec, "ops/").changes
    assert (change.add, change.remove) == ({"ops/on-track"}, {"ops/at-risk"})
    with pytest.raises(ValueError):
        plan_changes(rec, "")


def _plan(changed: int, covered: int, cause: str = "scope", first: frozenset[str] = frozenset()) -> ChangePlan:
    from connector.values import LabelChange

    changes = tuple(LabelChange("jira", str(n), f"CHK-{n}", add=frozenset({"plan:at-risk"}), cause=cause)
                    for n in range(changed))
    return ChangePlan(changes, items_in_scope=covered, items_labelled_now=covered, covered=covered,
                      first_trackers=first)


def test_guarded_changes_above_both_limits_are_refused_with_the_arithmetic():
    with pytest.raises(UnsafePlan) as caught:
        check_safety(_plan(31, 100), max_share=0.30, min_guarded=10, force=False)
    assert "guarded: 31 of 100 items, 31.0 %, limit 30 % and 10" in str(caught.value)
    assert "jira: leaving every scope (31)" in str(caught.value)  # the biggest group, named
    assert "--force" in str(caught.value) and caught.value.exit_code is ExitCode.FAILED


def test_at_or_below_either_limit_passes():
    check_safety(_plan(30, 100), max_share=0.30, min_guarded=10)  # 30 % is not above 30 %
    check_safety(_plan(0, 0), max_share=0.30, min_guarded=10)
    check_safety(_plan(9, 20), max_share=0.30, min_guarded=10)  # 45 %, but under the floor of 10
    check_safety(_plan(10, 20), max_share=0.30, min_guarded=10)
    with pytest.raises(UnsafePlan):
        check_safety(_plan(11, 20), max_share=0.30, min_guarded=10)


@pytest.mark.parametrize("cause", ["health", "status", "overdue"])
def test_news_never_trips_the_guard(cause):
    check_safety(_plan(100, 100, cause=cause), max_share=0.30, min_guarded=10)


def test_drift_is_guarded_like_scope():
    with pytest.raises(UnsafePlan) as caught:
        check_safety(_plan(50, 100, cause="drift"), max_share=0.30, min_guarded=10)
    assert "owned labels differ from what plansync last wrote" in str(caught.value)


def test_force_passes_an_unsafe_plan():
    check_safety(_plan(100, 100), max_share=0.30, min_guarded=10, force=True)


def test_a_tracker_on_its_first_apply_is_exempt():
    check_safety(_plan(100, 100, first=frozenset({"jira"})), max_share=0.30, min_guarded=10)
    with pytest.raises(UnsafePlan):
        check_safety(_plan(100, 100), max_share=0.30, min_guarded=10)


def test_changes_an_interrupted_apply_planned_are_not_counted_again():
    plan = _plan(40, 100)
    exempt = frozenset((c.tracker, c.item_id, c.add, c.remove) for c in plan.changes[:35])
    check_safety(plan, max_share=0.30, min_guarded=10, exempt=exempt)  # 5 left to count


def test_share_counts_changed_items_over_issues_in_scope():
    pr = gh(9, type="pull_request", is_pull_request=True, labels=("plan:on-track",))
    items = [jira(1, labels=("plan:on-track",)), jira(2, labels=("plan:off-track",)), pr, *history()]
    result = plan_changes(reconciled(items), "plan:")
    assert result.items_in_scope == 42  # the pull request is not counted in the denominator
    assert len(result.changes) == 2 and result.share == pytest.approx(2 / 42)


def test_render_text_lists_unplanned_and_pull_request_changes_after_milestones():
    stray = jira(99, labels=("plan:on-track",))
    pr = gh(5, type="pull_request", is_pull_request=True, milestones=(), labels=("plan:at-risk",))
    items = [jira(1), stray, pr, *history()]
    keys = [i.key for i in items if i.tracker == "jira"]
    rec = reconcile(plan(), items, members_for(items, (JIRA_SCOPE, [k for k in keys if k != "CHK-99"]),
                                               (JIRA_WATCH, keys)), (), (), now=NOW)
    result = plan_changes(rec, "plan:")
    text = render_text(result, rec)
    assert [c.key for c in result.changes] == ["acme/checkout-web#5", "CHK-1", "CHK-99"]
    assert "github:\n  not in a plan milestone\n    - plan:at-risk  acme/checkout-web#5  [drift]" in text
    assert "a pull request is development activity" in text
    assert ("  not in a plan milestone\n    + plan:unplanned  CHK-99  [health] Jira issue 99   "
            "(in a watch scope but in no plan milestone)") in text


def test_each_label_line_gives_its_own_reason():
    items = [jira(1, due=date(2026, 11, 20)), jira(2, labels=("plan:overdue",)), *history()]
    rec = reconciled(items)
    text = render_text(plan_changes(rec, "plan:"), rec)
    assert "+ plan:overdue  CHK-1  [health] Jira issue 1   (overdue: past its due date 2026-11-20)" in text
    # the health label's reason is the milestone's, said once under the group header
    assert "    because: 1 item overdue: CHK-1\n" in text
    assert "+ plan:at-risk  CHK-1  [health] Jira issue 1\n" in text
    assert "- plan:overdue  CHK-2  [health] Jira issue 2   (no longer overdue)\n" in text


def test_causes_come_from_what_the_store_last_confirmed():
    from connector.changes import cause_of
    from connector.values import LabelRecord

    on, risk, late = frozenset({"plan:on-track"}), frozenset({"plan:at-risk"}), frozenset({"plan:on-track", "plan:overdue"})
    record = LabelRecord("jira", "1", on, ("beta",), True, "plan:")
    assert cause_of(record, on, risk, ("beta",), True, "plan:") == "health"
    assert cause_of(record, on, late, ("beta",), True, "plan:") == "overdue"
    assert cause_of(record, on, frozenset(), ("beta",), False, "plan:") == "status"
    assert cause_of(record, on, risk, ("ga",), True, "plan:") == "scope"  # moved between milestones
    assert cause_of(record, on, frozenset(), (), True, "plan:") == "scope"  # left every scope
    assert cause_of(record, risk, on, ("beta",), True, "plan:") == "drift"  # edited by hand
    assert cause_of(record, frozenset(), on, ("beta",), True, "ops:") == "drift"  # the prefix changed
    assert cause_of(None, frozenset(), on, ("beta",), True, "plan:") == "scope"  # new to the plan
    assert cause_of(None, risk, on, ("beta",), True, "plan:") == "drift"  # labelled by someone else
