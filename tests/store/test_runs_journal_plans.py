"""Runs and per-tracker syncs, the write journal's transitions, and plan snapshots, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from connector.model import Plan, PlanHeader, PlanMilestone
from connector.trackers.jira.scopes import JiraScope
from connector.values import LabelChange, LabelReason


def test_runs_record_outcome_counts_and_syncs(store, monkeypatch):
    monkeypatch.setenv("PLANSYNC_NOW", "2026-11-02T10:00:00+01:00")
    run = store.begin_run("sync", ["jira", "github"])
    assert store.last_good_sync("jira") is None and store.sync_count("jira") == 0
    store.mark_tracker_synced(run, "jira", ok=True, census=True, requests={"requests": 12})
    store.mark_tracker_synced(run, "github", ok=False, census=False, requests={"requests": 3})
    store.finish_run(run, "partial", counts={"jira": {"inserted": 5}}, requests={"jira": {"requests": 12}},
                     error="tracker 'github': 502")
    assert store.last_good_sync("jira") == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert store.last_good_sync("github") is None
    assert (store.sync_count("jira"), store.sync_count("github")) == (1, 0)
    monkeypatch.setenv("PLANSYNC_NOW", "2026-11-02T11:00:00Z")
    second = store.begin_run("run", ["jira"])
    store.mark_tracker_synced(second, "jira", ok=True, census=False, requests={})
    assert store.last_good_sync("jira") == datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
    assert store.sync_count("jira") == 2
    newest, oldest = store.runs()
    assert newest["id"] == second and newest["outcome"] is None and newest["finished"] is None
    assert oldest["outcome"] == "partial" and oldest["trackers"] == ["jira", "github"]
    assert oldest["counts"] == {"jira": {"inserted": 5}} and oldest["error"] == "tracker 'github': 502"
    assert oldest["syncs"]["jira"]["census"] is True and oldest["syncs"]["github"]["ok"] is False
    assert oldest["started"] == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert len(store.runs(limit=1)) == 1
    with pytest.raises(ValueError, match="outcome"):
        store.finish_run(run, "great")


def test_journal_transitions(store):
    run = store.begin_run("apply", ["jira"])
    changes = [LabelChange("jira", str(i), f"CHK-{i}", add=frozenset({"plan:at-risk"}),
                           remove=frozenset({"plan:on-track"}), reasons=(LabelReason("health", "beta is at risk", "beta"),)) for i in range(3)]
    ids = store.journal_plan(run, changes)
    assert len(ids) == 3 and ids == sorted(ids)
    assert [e.change for e in store.journal(run)] == changes
    store.journal_mark(ids[0], "sent")
    store.journal_mark(ids[0], "confirmed")
    store.journal_mark(ids[1], "sent")
    store.journal_mark(ids[2], "failed", error="tracker 'jira': 403\x00")  # NUL from a vendor body
    unfinished = store.journal_unfinished()
    assert [(e.id, e.state) for e in unfinished] == [(ids[1], "sent")]
    assert store.journal_unfinished("github") == []
    entries = {e.id: e for e in store.journal()}
    assert entries[ids[2]].error == "tracker 'jira': 403\ufffd" and entries[ids[2]].state == "failed"
    assert entries[ids[0]].created.tzinfo == UTC
    store.journal_mark(ids[1], "sent")  # a resumed apply re-sends
    store.journal_mark(ids[1], "superseded")
    store.journal_mark(ids[0], "confirmed")  # idempotent
    with pytest.raises(ValueError, match="cannot become sent"):
        store.journal_mark(ids[0], "sent")
    with pytest.raises(ValueError, match="state must be"):
        store.journal_mark(ids[0], "done")
    with pytest.raises(ValueError, match="no write-journal entry"):
        store.journal_mark(10_000, "sent")
    assert store.journal_unfinished() == []
    assert store.journal_plan(run, []) == []


def test_journal_keeps_order_of_many_changes(store):
    changes = [LabelChange("github", str(i), f"acme/web#{i}", add=frozenset({"plan:on-track"}))
               for i in range(1200)]  # more than one insert chunk
    ids = store.journal_plan(None, changes)
    entries = store.journal()
    assert [e.id for e in entries] == ids
    assert [e.change.item_id for e in entries] == [str(i) for i in range(1200)]


def _plan(due: date) -> Plan:
    return Plan(plan=PlanHeader(name="Checkout", start=date(2026, 10, 5)),
                milestones=(PlanMilestone(key="beta", title="Beta", due=due,
                                          scope=(JiraScope(tracker="jira", jql="project = CHK"),)),))


def test_plan_snapshots_only_when_changed(store):
    t1 = datetime(2026, 11, 2, tzinfo=UTC)
    assert store.plan_as_of(t1) is None
    assert store.save_plan_snapshot(None, _plan(date(2026, 12, 15)), t1) is True
    assert store.save_plan_snapshot(None, _plan(date(2026, 12, 15)), t1 + timedelta(days=1)) is False
    run = store.begin_run("run", [])
    assert store.save_plan_snapshot(run, _plan(date(2027, 1, 15)), t1 + timedelta(days=7)) is True
    assert store.plan_as_of(t1 - timedelta(seconds=1)) is None
    assert store.plan_as_of(t1 + timedelta(days=6)) == _plan(date(2026, 12, 15))
    assert store.plan_as_of(t1 + timedelta(days=7)) == _plan(date(2027, 1, 15))
    # going back to an older plan is a change too
    assert store.save_plan_snapshot(run, _plan(date(2026, 12, 15)), t1 + timedelta(days=8)) is True


def test_journal_confirm_records_the_labels_in_the_same_transaction(store):
    from datetime import datetime

    from connector.model import Cursor
    from connector.values import PullResult, ScopePull
    from tests.fixtures.store import make_item

    item = make_item("7", labels=("customer",))
    run = store.begin_run("apply", [item.tracker])
    store.save_pull(run, PullResult(item.tracker, (ScopePull("s", (item,), True, Cursor(item.tracker, "s")),)),
                    observed_at=datetime(2026, 11, 20, tzinfo=UTC))
    change = LabelChange(item.tracker, "7", item.key, add=frozenset({"plan:at-risk"}))
    (entry,) = store.journal_plan(run, [change])
    store.journal_mark(entry, "sent")
    store.journal_confirm(entry, item.tracker, "7", ("customer", "plan:at-risk"), datetime(2026, 11, 21, tzinfo=UTC))
    assert store.item(item.tracker, "7").labels == ("customer", "plan:at-risk")
    assert [e.state for e in store.journal(run)] == ["confirmed"]
    with pytest.raises(ValueError, match="cannot become confirmed"):  # a failed entry is never confirmed
        (other,) = store.journal_plan(run, [change])
        store.journal_mark(other, "sent")
        store.journal_mark(other, "failed", error="x")
        store.journal_confirm(other, item.tracker, "7", ("customer",), datetime(2026, 11, 22, tzinfo=UTC))
    assert store.item(item.tracker, "7").labels == ("customer", "plan:at-risk")  # rolled back with it
