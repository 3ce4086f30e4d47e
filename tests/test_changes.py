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
    assert lines[3] == "    + plan:at-risk   CHK-1  Fix the thing"  # not repeated on each line
    assert lines[4].startswith("    - plan:on-track  CHK-1  Fix the thing")
    assert "- plan:at-risk   CHK-2" in text and "done: owned labels are for open work only" in text
    assert "\x1b" not in text  # untrusted titles cannot drive the terminal
    assert lines[-1] == "Plan: 2 labels to add, 2 to remove, on 3 items."


def test_no_changes_renders_the_all_clear():
    items = [jira(1, labels=("plan:on-track",)), *history()]
    rec = reconciled(items)
    result = plan_changes(rec, "plan:")
    assert result.changes == () and result.share == 0.0
    assert render_text(result, rec) == "No changes. Trackers match the plan.\n"
    assert json.loads(render_json(result))["changes"] == []


def test_render_json_is_complete_and_sorted():
    items = [jira(1, labels=("plan:off-track", "x")), gh(2, Status.DONE, labels=("plan:on-track",)), *history()]
    doc = json.loads(render_json(plan_changes(reconciled(items), "plan:")))
    assert doc["changes"][0] == {"tracker": "github", "item_id": "500002", "key": "acme/checkout-web#2",
                                 "milestone": "beta", "add": [], "remove": ["plan:on-track"],
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


def _plan(changed: int, in_scope: int, labelled: int) -> ChangePlan:
    from connector.values import LabelChange

    changes = tuple(LabelChange("jira", str(n), f"CHK-{n}", add=frozenset({"plan:at-risk"})) for n in range(changed))
    return ChangePlan(changes, items_in_scope=in_scope, items_labelled_now=labelled)


def test_share_above_threshold_is_refused_with_an_explanation():
    with pytest.raises(UnsafePlan) as caught:
        check_safety(_plan(31, 100, 50), max_share=0.30, force=False)
    assert "31 of 100 items in scope (31.0 %), more than the allowed 30 %" in str(caught.value)
    assert "--force" in str(caught.value) and caught.value.exit_code is ExitCode.FAILED


def test_share_at_or_below_threshold_passes():
    check_safety(_plan(30, 100, 50), max_share=0.30, force=False)
    check_safety(_plan(0, 0, 0), max_share=0.30, force=False)


def test_force_passes_an_unsafe_plan():
    check_safety(_plan(100, 100, 50), max_share=0.30, force=True)


def test_first_apply_is_exempt_but_a_second_is_not():
    check_safety(_plan(100, 100, 0), max_share=0.30, force=False)
    with pytest.raises(UnsafePlan):
        check_safety(_plan(100, 100, 1), max_share=0.30, force=False)


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
    assert "github:\n  not in a plan milestone\n    - plan:at-risk  acme/checkout-web#5" in text
    assert "a pull request is development activity" in text
    assert ("  not in a plan milestone\n    + plan:unplanned  CHK-99  Jira issue 99   "
            "(in a watch scope but in no plan milestone)") in text


def test_each_label_line_gives_its_own_reason():
    items = [jira(1, due=date(2026, 11, 20)), jira(2, labels=("plan:overdue",)), *history()]
    rec = reconciled(items)
    text = render_text(plan_changes(rec, "plan:"), rec)
    assert "+ plan:overdue  CHK-1  Jira issue 1   (overdue: past its due date 2026-11-20)" in text
    # the health label's reason is the milestone's, said once under the group header
    assert "    because: 1 item overdue: CHK-1\n" in text
    assert "+ plan:at-risk  CHK-1  Jira issue 1\n" in text
    assert "- plan:overdue  CHK-2  Jira issue 2   (no longer overdue)\n" in text


def _two_trackers(jira_changed: int, github_changed: int) -> ChangePlan:
    from connector.values import LabelChange

    changes = tuple(LabelChange("jira", str(n), f"CHK-{n}", add=frozenset({"plan:at-risk"}))
                    for n in range(jira_changed))
    changes += tuple(LabelChange("github", str(n), f"acme/web#{n}", add=frozenset({"plan:on-track"}))
                     for n in range(github_changed))
    # jira was labelled before; github has never been applied (its first apply failed, or it is new)
    return ChangePlan(changes, items_in_scope=100, items_labelled_now=10,
                      by_tracker_counts={"jira": (50, 10), "github": (50, 0)})


def test_a_tracker_on_its_first_apply_is_exempt_but_the_others_are_still_guarded():
    check_safety(_two_trackers(5, 50), max_share=0.30, force=False)  # 55 % overall, jira alone 10 %
    with pytest.raises(UnsafePlan) as caught:
        check_safety(_two_trackers(20, 50), max_share=0.30, force=False)
    assert "20 of 50 items in scope (40.0 %)" in str(caught.value)


def test_per_tracker_counts_come_from_the_reconciliation():
    pr = gh(9, type="pull_request", is_pull_request=True)
    items = [jira(1, labels=("plan:on-track",)), jira(2), gh(3), pr, *history()]
    result = plan_changes(reconciled(items), "plan:")
    assert result.by_tracker_counts == {"jira": (42, 1), "github": (1, 0)}
