"""Issue #17 items 5 and 6: each tracker kind's label rules. GitHub compares label names
case-insensitively (an existing `Plan:At-Risk` IS `plan:at-risk` there), Jira labels take no whitespace."""

from __future__ import annotations

from connector.changes import plan_changes
from connector.model import Status
from connector.trackers import registry
from tests.test_changes import history, reconciled
from tests.test_reconcile_builders import gh, jira


def folds():
    return {name: registry.kind(name).fold_label for name in ("jira", "github")}


def test_a_github_label_in_another_case_is_plansyncs_own_and_is_not_posted_again():
    # GitHub attached its existing `Plan:On-Track` when plansync asked for `plan:on-track`
    items = [gh(4, labels=("Plan:On-Track", "planning")), *history()]
    exact = plan_changes(reconciled(items), "plan:")
    assert [c.add for c in exact.changes] == [{"plan:on-track"}]  # compared exactly it would post forever

    result = plan_changes(reconciled(items), "plan:", folds=folds())
    assert result.changes == ()
    assert result.case_conflicts == (("github", "acme/checkout-web#4", "Plan:On-Track"),)
    assert result.items_labelled_now == 1


def test_a_github_label_in_another_case_that_is_wrong_is_removed_by_its_own_name():
    items = [gh(4, labels=("PLAN:AT-RISK",)), *history()]
    (change,) = plan_changes(reconciled(items), "plan:", folds=folds()).changes
    assert change.add == {"plan:on-track"} and change.remove == {"PLAN:AT-RISK"}


def test_jira_compares_exactly():
    items = [jira(1, Status.BLOCKED, labels=("Plan:At-Risk",)), *history()]
    (change,) = plan_changes(reconciled(items), "plan:", folds=folds()).changes
    assert change.add == {"plan:at-risk"} and not change.remove  # `Plan:At-Risk` is another label on Jira


def test_kind_label_rules():
    jira_kind, github_kind = registry.kind("jira"), registry.kind("github")
    assert jira_kind.label_problem("plan: off-track") and jira_kind.label_problem("my plan:off-track")
    assert jira_kind.label_problem("plan:off-track") is None
    assert github_kind.label_problem("plan: off-track") is None  # GitHub takes spaces inside a name
    assert github_kind.label_problem("x" * 51)
    assert github_kind.fold_label("Plan:Off-Track") == github_kind.fold_label("plan:off-track")
    assert jira_kind.fold_label("Plan:Off-Track") != jira_kind.fold_label("plan:off-track")
