"""Jira writes at organisation scale: watcher emails suppressed, Cloud bulk label edits, their fallbacks."""

from __future__ import annotations

import pytest

from connector.sandbox.jira_bulk import citizenship
from connector.values import LabelChange
from tests.adapters.test_jira_sandbox import make


def _open(sandbox, n: int, project: str = "CHK"):
    issues = [i for i in sandbox.state.jira_issues.values() if i.project == project and not i.deleted]
    return sorted(issues, key=lambda i: i.id)[:n]


def _change(issue, add=("plan:on-track",), remove=()):
    return LabelChange("jira", str(issue.id), issue.key, add=frozenset(add), remove=frozenset(remove))


def _push(adapter, changes):
    batches = []
    results = list(adapter.push_labels_grouped(changes, batches.append))
    return results, batches


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_single_puts_ask_jira_not_to_email_watchers(sandbox, flavour):
    adapter = make(sandbox, flavour)
    issue = _open(sandbox, 1)[0]
    assert adapter.push_labels(_change(issue)).ok
    assert "plan:on-track" in sandbox.jira_issue(issue.key).labels
    assert citizenship(sandbox).emails[flavour] == 0 and citizenship(sandbox).suppressed[flavour] == 1
    put = [r for r in sandbox.log if r.method == "PUT"][0]
    assert "notifyUsers=false" in put.query


def test_notify_true_restores_the_vendor_default(sandbox):
    adapter = make(sandbox, "cloud")
    adapter.tracker.notify = True
    issue = _open(sandbox, 1)[0]
    assert adapter.push_labels(_change(issue)).ok
    assert citizenship(sandbox).emails["cloud"] == 1
    assert "notifyUsers" not in [r for r in sandbox.log if r.method == "PUT"][0].query


def test_data_center_403_on_notify_users_retries_without_it_once_per_run(sandbox, caplog):
    citizenship(sandbox).can_suppress = False
    adapter = make(sandbox, "server")
    first, second = _open(sandbox, 2)
    assert adapter.push_labels(_change(first)).ok and adapter.push_labels(_change(second)).ok
    puts = [r for r in sandbox.log if r.method == "PUT"]
    # one refused, its retry, then the second issue straight without the flag: remembered for the run
    assert [r.status for r in puts] == [403, 204, 204]
    assert ["notifyUsers=false" in r.query for r in puts] == [True, False, False]
    assert adapter.suppression is False
    assert sum("refused notifyUsers=false" in r.message for r in caplog.records) == 1
    assert "plan:on-track" in sandbox.jira_issue(second.key).labels


def test_cloud_without_admin_ignores_the_flag_and_doctor_says_so(sandbox):
    citizenship(sandbox).can_suppress = False
    adapter = make(sandbox, "cloud")
    assert adapter.push_labels(_change(_open(sandbox, 1)[0])).ok
    assert citizenship(sandbox).emails["cloud"] == 1  # Cloud edits anyway and emails
    assert "NOT suppressible" in adapter.notification_check()
    citizenship(sandbox).can_suppress = True
    assert "notifications: suppressed" in adapter.notification_check()


def test_same_label_sets_go_as_one_bulk_edit_with_per_issue_outcomes(sandbox):
    adapter = make(sandbox, "cloud")
    issues = _open(sandbox, 5)
    changes = [_change(i) for i in issues[:3]] + [_change(i, add=("plan:at-risk",), remove=("plan:on-track",))
                                                   for i in issues[3:]]
    results, batches = _push(adapter, changes)
    assert all(r.ok for r in results) and {r.change.item_id for r in results} == {c.item_id for c in changes}
    assert sorted(len(b) for b in batches) == [2, 3]
    posts = [r for r in sandbox.log if r.method == "POST" and r.path.endswith("/bulk/issues/fields")]
    assert len(posts) == 3  # one ADD for each set, one REMOVE for the second
    assert not [r for r in sandbox.log if r.method == "PUT"]
    assert citizenship(sandbox).emails["cloud"] == 0  # sendBulkNotification: false
    assert "plan:at-risk" in sandbox.jira_issue(issues[4].key).labels
    assert "plan:on-track" not in sandbox.jira_issue(issues[4].key).labels


def test_a_bulk_edit_takes_at_most_1000_issues(sandbox_factory):
    sandbox = sandbox_factory(scale=3000)
    adapter = make(sandbox, "cloud")
    issues = sorted((i for i in sandbox.state.jira_issues.values() if not i.deleted), key=lambda i: i.id)[:1001]
    results, batches = _push(adapter, [_change(i) for i in issues])
    assert all(r.ok for r in results) and [len(b) for b in batches] == [1000, 1]


def test_task_polling_and_failed_issues_retried_singly(sandbox, _no_real_sleep):
    c = citizenship(sandbox)
    c.polls_to_complete = 3
    issues = _open(sandbox, 4)
    c.fail_ids = {issues[1].id}
    adapter = make(sandbox, "cloud")
    results, _ = _push(adapter, [_change(i) for i in issues])
    assert all(r.ok for r in results)
    assert adapter.stats.by_endpoint["GET /bulk/queue/{id}"] == 3 and _no_real_sleep == [0.5, 1.0]
    puts = [r for r in sandbox.log if r.method == "PUT"]
    assert len(puts) == 1 and str(issues[1].id) in puts[0].path


def test_no_bulk_permission_falls_back_to_single_puts_once(sandbox, caplog):
    citizenship(sandbox).bulk_permission = False
    adapter = make(sandbox, "cloud")
    issues = _open(sandbox, 6)
    changes = [_change(i) for i in issues[:3]] + [_change(i, add=("plan:at-risk",)) for i in issues[3:]]
    results, _ = _push(adapter, changes)
    assert all(r.ok for r in results)
    posts = [r for r in sandbox.log if r.method == "POST" and "/bulk/" in r.path]
    assert [r.status for r in posts] == [403]  # asked once, then one PUT per issue
    assert len([r for r in sandbox.log if r.method == "PUT"]) == 6
    assert sum("bulk edit refused" in r.message for r in caplog.records) == 1


@pytest.mark.parametrize("flavour", ["server"])
def test_data_center_and_bulk_false_write_one_put_per_item(sandbox, flavour):
    adapter = make(sandbox, flavour)
    results, batches = _push(adapter, [_change(i) for i in _open(sandbox, 3)])
    assert all(r.ok for r in results) and [len(b) for b in batches] == [1, 1, 1]
    cloud = make(sandbox, "cloud")
    cloud.tracker.bulk = False
    results, batches = _push(cloud, [_change(i, add=("plan:x",)) for i in _open(sandbox, 3)])
    assert [len(b) for b in batches] == [1, 1, 1]
    assert not [r for r in sandbox.log if "/bulk/" in r.path]
