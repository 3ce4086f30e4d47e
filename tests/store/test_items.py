"""Items on both engines: field round-trip, change detection, history, as-of queries, done events."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

from connector.model import Cursor, Milestone, Presence, Status
from connector.store import SaveSummary
from connector.values import PullResult, ScopePull
from tests.fixtures.store import T0, make_item

SCOPE = "jira:abc"


def pull(*items, scope=SCOPE, complete=True, tracker="jira", cursor_at=None, **extra) -> PullResult:
    cursor = Cursor(tracker=tracker, scope_id=scope, updated=cursor_at or T0)
    return PullResult(tracker=tracker, scopes=(ScopePull(scope, tuple(items), complete, cursor),), **extra)


def test_every_field_round_trips(store):
    berlin = timezone(timedelta(hours=2))
    item = make_item(
        "10001", key="CHK-7", container="CHK", url="https://x.test/CHK-7", title="Zahlung — ünïcode ✓",
        type="Bug", status=Status.BLOCKED, raw_status="Impeded",
        created=datetime(2026, 10, 1, 8, 30, 15, 123456, tzinfo=berlin),
        updated=datetime(2026, 10, 2, 23, 59, 59, tzinfo=UTC),
        resolved=datetime(2026, 10, 3, 1, 0, tzinfo=berlin), assignees=("dana@example.com", "ole"),
        labels=("plan:at-risk", "backend"), milestones=("Beta", "1.2"), sprint="Sprint 4", epic="CHK-1",
        parent="CHK-2", due=date(2026, 12, 15), estimate=2.5, links=("acme/web#7",), is_pull_request=True,
    )
    store.save_pull(None, pull(item), T0)
    back = store.item("jira", "10001")
    assert back == item
    assert back.created.tzinfo == UTC and back.created == item.created
    assert back.resolved == datetime(2026, 10, 2, 23, 0, tzinfo=UTC)
    assert isinstance(back.due, date) and not isinstance(back.due, datetime)
    assert store.items() == [item]
    minimal = make_item("2", estimate=None, due=None, resolved=None)
    store.save_pull(None, pull(minimal, scope="jira:other"), T0)
    assert store.item("jira", "2") == minimal
    assert store.item("jira", "missing") is None


def test_second_pull_detects_changed_and_unchanged(store):
    first = [make_item(i) for i in range(5)]
    assert store.save_pull(None, pull(*first), T0) == SaveSummary(inserted=5, changed=0, unchanged=5 - 5, gone=0)
    second = first[:4] + [make_item(4, status=Status.DONE, updated=T0 + timedelta(days=1))]
    summary = store.save_pull(None, pull(*second), T0 + timedelta(days=1))
    assert summary == SaveSummary(inserted=0, changed=1, unchanged=4, gone=0)
    assert store.item("jira", "4").status is Status.DONE
    assert store.known_ids("jira") == frozenset({"0", "1", "2", "3", "4"})


def test_history_records_tracked_fields_only(store):
    t1, t2 = T0, T0 + timedelta(days=1)
    store.save_pull(None, pull(make_item(1)), t1)
    changed = make_item(1, status=Status.IN_PROGRESS, milestones=("Beta",), due=date(2026, 12, 1),
                        estimate=3.0, assignees=("ole",), labels=("x",), title="renamed", key="CHK-99",
                        updated=t2 - timedelta(hours=1))
    store.save_pull(None, pull(changed), t2)
    got = store.changes(t1, t2 + timedelta(seconds=1))
    first, rest = got[0], got[1:]
    assert (first.field, first.old, first.new, first.observed_at) == ("status", None, "todo", t1)
    assert {(c.field, c.old, c.new) for c in rest} == {
        ("status", "todo", "in_progress"), ("milestones", "[]", '["Beta"]'), ("due", None, "2026-12-01"),
        ("estimate", None, "3.0"), ("assignees", "[]", '["ole"]'), ("key", "CHK-1", "CHK-99"),
        ("labels", "[]", '["x"]'),
    }
    assert all(c.changed_at == t2 - timedelta(hours=1) and c.observed_at == t2 for c in rest)
    assert all(c.key == "CHK-99" for c in rest)
    assert store.changes(t2, t2 + timedelta(seconds=1)) == rest  # window is [since, until)
    assert store.changes(t1 - timedelta(days=2), t1) == []


def test_items_as_of_is_exact(store):
    t1, t2, t3 = T0, T0 + timedelta(days=1), T0 + timedelta(days=2)
    store.save_pull(None, pull(make_item(1), make_item(2)), t1)
    store.save_pull(None, pull(make_item(1, status=Status.DONE), make_item(2), make_item(3)), t2)
    census = pull(make_item(1, status=Status.DONE), make_item(3), census=True, seen_ids=frozenset({"1", "3"}))
    store.save_pull(None, census, t3)
    assert store.items_as_of(t1 - timedelta(seconds=1)) == []
    assert {(i.id, i.status) for i in store.items_as_of(t1)} == {("1", Status.TODO), ("2", Status.TODO)}
    assert {(i.id, i.status) for i in store.items_as_of(t2 - timedelta(microseconds=1))} == {
        ("1", Status.TODO), ("2", Status.TODO)}
    assert {(i.id, i.status) for i in store.items_as_of(t2)} == {
        ("1", Status.DONE), ("2", Status.TODO), ("3", Status.TODO)}
    assert {i.id for i in store.items_as_of(t3)} == {"1", "3"}  # 2 hidden by the census
    assert store.items_as_of(t3, tracker="github") == []


def test_done_events_include_items_first_seen_done(store):
    resolved = T0 - timedelta(days=3)
    store.save_pull(None, pull(make_item(1, status=Status.DONE, resolved=resolved), make_item(2)), T0)
    t2 = T0 + timedelta(days=1)
    store.save_pull(None, pull(make_item(1, status=Status.DONE, resolved=resolved, title="edited"),
                               make_item(2, status=Status.DONE, updated=t2)), t2)
    assert store.done_events() == [("jira", "1", resolved), ("jira", "2", t2)]
    assert store.done_events(since=T0) == [("jira", "2", t2)]
    # reopened then done again: a second event
    t3, t4 = t2 + timedelta(days=1), t2 + timedelta(days=2)
    store.save_pull(None, pull(make_item(1, status=Status.IN_PROGRESS, updated=t3), make_item(2, status=Status.DONE,
                                                                                           updated=t2)), t3)
    store.save_pull(None, pull(make_item(1, status=Status.DONE, resolved=t4, updated=t4)), t4)
    assert store.done_events(since=t3) == [("jira", "1", t4)]


def test_cursors_and_milestones_are_stored(store):
    cursor = Cursor("jira", SCOPE, updated=datetime(2026, 10, 5, 11, 0, tzinfo=timezone(timedelta(hours=2))),
                    etag='W/"abc"', extra={"timezone": "Europe/Berlin", "page": 3})
    version = Milestone("jira", "100", "version", "Beta", "CHK", "unreleased", due=date(2026, 12, 15),
                        start=date(2026, 10, 1), url="https://x.test/v/100")
    sprint = Milestone("jira", "7", "sprint", "Sprint 7", "CHK", "active")
    result = PullResult(tracker="jira", scopes=(ScopePull(SCOPE, (make_item(1),), True, cursor),),
                        milestones=(version, sprint))
    store.save_pull(None, result, T0)
    got = store.get_cursors("jira")[SCOPE]
    assert got.updated == datetime(2026, 10, 5, 9, 0, tzinfo=UTC) and got.updated.tzinfo == UTC
    assert (got.etag, got.extra) == ('W/"abc"', {"timezone": "Europe/Berlin", "page": 3})
    assert store.get_cursors("github") == {}
    assert store.milestones("jira") == [version, sprint] or store.milestones("jira") == [sprint, version]
    renamed = Milestone("jira", "100", "version", "Beta 2", "CHK", "released", due=date(2026, 12, 20))
    store.save_pull(None, PullResult(tracker="jira", scopes=(), milestones=(renamed,)), T0)
    assert {m.id: m for m in store.milestones()}["100"] == renamed
    assert store.milestones("github") == []


def test_set_item_labels_updates_current_state_and_history(store):
    store.save_pull(None, pull(make_item(1, labels=("backend",))), T0)
    t2 = T0 + timedelta(hours=1)
    assert store.set_item_labels("jira", "1", ("backend", "plan:on-track"), t2) is True
    assert store.item("jira", "1").labels == ("backend", "plan:on-track")
    [change] = store.changes(t2, t2 + timedelta(seconds=1))
    assert (change.field, json.loads(change.old), json.loads(change.new)) == (
        "labels", ["backend"], ["backend", "plan:on-track"])
    assert store.items_as_of(T0)[0].labels == ("backend",)
    assert store.items_as_of(t2)[0].labels == ("backend", "plan:on-track")
    assert store.set_item_labels("jira", "1", ("backend", "plan:on-track"), t2) is False  # no change
    assert store.set_item_labels("jira", "nope", ("x",), t2) is False
    # the next pull showing the same labels is not a labels change
    store.save_pull(None, pull(make_item(1, labels=("backend", "plan:on-track"), updated=t2)), t2 + timedelta(1))
    assert [c.field for c in store.changes(t2 + timedelta(1), t2 + timedelta(2))] == []


def test_items_filters_by_tracker_and_presence(store):
    store.save_pull(None, pull(make_item(1), make_item(2)), T0)
    store.save_pull(None, pull(make_item(9, tracker="github"), tracker="github", scope="github:repo"), T0)
    store.save_pull(None, pull(make_item(1), census=True, seen_ids=frozenset({"1"})), T0 + timedelta(1))
    assert [i.id for i in store.items("jira")] == ["1"]
    assert [(i.id, i.presence) for i in store.items("jira", present_only=False)] == [
        ("1", Presence.PRESENT), ("2", Presence.HIDDEN)]
    assert [i.uid for i in store.items()] == [("github", "9"), ("jira", "1")]


def test_an_older_copy_from_a_lagging_index_is_ignored(store):
    newer = make_item(1, status=Status.DONE, updated=T0 + timedelta(hours=5))
    store.save_pull(None, pull(newer), T0 + timedelta(hours=6))
    stale = make_item(1, status=Status.IN_PROGRESS, updated=T0 + timedelta(hours=2))
    summary = store.save_pull(None, pull(stale, complete=False), T0 + timedelta(hours=7))
    assert (summary.changed, summary.unchanged) == (0, 1)
    assert store.item("jira", "1") == newer
    assert [c.field for c in store.changes(T0 + timedelta(hours=7), T0 + timedelta(days=1))] == []
    # a stale copy still proves the item is visible
    store.save_pull(None, pull(census=True, seen_ids=frozenset()), T0 + timedelta(hours=8))
    assert store.item("jira", "1").presence is Presence.HIDDEN
    store.save_pull(None, pull(stale, complete=False), T0 + timedelta(hours=9))
    assert store.item("jira", "1") == newer
