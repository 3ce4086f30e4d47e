"""Scope membership rules of save_pull, and the census marking deleted, moved and hidden items."""

from __future__ import annotations

from datetime import timedelta

from connector.model import Cursor, Presence, Status
from connector.values import Gone, PullResult, ScopePull
from tests.fixtures.store import T0, make_item

A, B = "jira:aaa", "jira:bbb"
DAY = timedelta(days=1)


def scope(scope_id, *items, complete, at):
    return ScopePull(scope_id, tuple(items), complete, Cursor("jira", scope_id, updated=at))


def members(store, scope_id):
    return {item_id for _tracker, item_id in store.scope_members([scope_id])[scope_id]}


def test_complete_pull_replaces_membership(store):
    store.save_pull(None, PullResult("jira", (scope(A, make_item(1), make_item(2), complete=True, at=T0),)), T0)
    assert members(store, A) == {"1", "2"}
    store.save_pull(None, PullResult("jira", (scope(A, make_item(2), make_item(3), complete=True, at=T0),)), T0 + DAY)
    assert members(store, A) == {"2", "3"}
    assert store.scope_members([A, "jira:unknown"]) == {A: frozenset({("jira", "2"), ("jira", "3")}),
                                                        "jira:unknown": frozenset()}


def test_incremental_pull_adds_and_removes_items_that_left_the_scope(store):
    first = PullResult("jira", (scope(A, make_item(1), make_item(2), make_item(3), complete=True, at=T0),
                                scope(B, make_item(4), complete=True, at=T0)))
    store.save_pull(None, first, T0)
    # Item 1 changed after A's cursor and now only matches B: A's query would have returned it.
    # Item 2 is returned by B with an `updated` older than A's cursor (overlap, re-listing): keep it in A.
    moved = make_item(1, milestones=("Other",), updated=T0 + timedelta(hours=1))
    stale = make_item(2, updated=T0 - timedelta(hours=1))
    new_in_a = make_item(5, updated=T0 + timedelta(hours=2))
    second = PullResult("jira", (scope(A, new_in_a, complete=False, at=T0 + timedelta(hours=2)),
                                 scope(B, moved, stale, complete=False, at=T0 + timedelta(hours=2))))
    store.save_pull(None, second, T0 + DAY)
    assert members(store, A) == {"2", "3", "5"}
    assert members(store, B) == {"1", "2", "4"}


def test_incremental_removal_without_previous_cursor(store):
    store.save_pull(None, PullResult("jira", (ScopePull(A, (make_item(1),), True,
                                                        Cursor("jira", A, updated=None)),)), T0)
    changed = make_item(1, updated=T0 - timedelta(days=30))
    store.save_pull(None, PullResult("jira", (ScopePull(A, (), False, Cursor("jira", A)),
                                              scope(B, changed, complete=False, at=T0))), T0 + DAY)
    assert members(store, A) == set()  # no cursor: A's query covered all time, and it did not return 1
    assert members(store, B) == {"1"}


def test_census_marks_gone_moved_and_hidden_items(store):
    items = [make_item(i) for i in range(1, 6)]
    store.save_pull(None, PullResult("jira", (scope(A, *items, complete=True, at=T0),)), T0)
    census = PullResult(
        "jira", (scope(A, items[0], complete=True, at=T0),), census=True,
        seen_ids=frozenset({"1", "5"}),
        gone=(Gone("jira", "2", Presence.DELETED, detail="404"),
              Gone("jira", "3", Presence.MOVED, new_key="OTHER-9"),
              Gone("jira", "999", Presence.DELETED)),  # never stored: ignored
    )
    t2 = T0 + DAY
    summary = store.save_pull(None, census, t2)
    assert summary.gone == 3  # 2 deleted, 3 moved, 4 hidden; 5 is still visible
    everything = {i.id: i for i in store.items("jira", present_only=False)}
    assert {k: (v.presence, v.key) for k, v in everything.items()} == {
        "1": (Presence.PRESENT, "CHK-1"), "2": (Presence.DELETED, "CHK-2"), "3": (Presence.MOVED, "OTHER-9"),
        "4": (Presence.HIDDEN, "CHK-4"), "5": (Presence.PRESENT, "CHK-5")}
    assert store.known_ids("jira") == frozenset({"1", "5"})
    assert members(store, A) == {"1"}
    presence = {(c.item_id, c.old, c.new) for c in store.changes(t2, t2 + DAY) if c.field == "presence"}
    assert presence == {("2", "present", "deleted"), ("3", "present", "moved"), ("4", "present", "hidden")}
    assert ("3", "key", "CHK-3", "OTHER-9") in {(c.item_id, c.field, c.old, c.new) for c in store.changes(t2, t2 + DAY)}
    # a second identical census changes nothing
    assert store.save_pull(None, census, t2 + DAY).gone == 0


def test_incremental_pull_never_hides_anything(store):
    store.save_pull(None, PullResult("jira", (scope(A, make_item(1), make_item(2), complete=True, at=T0),)), T0)
    store.save_pull(None, PullResult("jira", (scope(A, make_item(1), complete=False, at=T0),)), T0 + DAY)
    assert store.known_ids("jira") == frozenset({"1", "2"})


def test_hidden_item_that_reappears_is_present_again(store):
    store.save_pull(None, PullResult("jira", (scope(A, make_item(1), make_item(2), complete=True, at=T0),)), T0)
    store.save_pull(None, PullResult("jira", (scope(A, make_item(1), complete=True, at=T0),), census=True,
                                     seen_ids=frozenset({"1"})), T0 + DAY)
    assert store.item("jira", "2").presence is Presence.HIDDEN
    back = make_item(2, status=Status.IN_PROGRESS, updated=T0 + 2 * DAY)
    summary = store.save_pull(None, PullResult("jira", (scope(A, back, complete=False, at=T0 + 2 * DAY),)),
                              T0 + 2 * DAY)
    assert (summary.changed, summary.gone) == (1, 0)
    assert store.item("jira", "2") == back
    assert members(store, A) == {"1", "2"}
    # seen by a census (not pulled) also counts as visible again
    store.save_pull(None, PullResult("jira", (scope(A, make_item(1), complete=True, at=T0),), census=True,
                                     seen_ids=frozenset({"1"})), T0 + 3 * DAY)
    store.save_pull(None, PullResult("jira", (), census=True, seen_ids=frozenset({"1", "2"})), T0 + 4 * DAY)
    assert store.item("jira", "2").presence is Presence.PRESENT


def test_trackers_do_not_touch_each_other(store):
    store.save_pull(None, PullResult("jira", (scope(A, make_item(1), complete=True, at=T0),)), T0)
    gh = ScopePull("github:repo", (make_item(1, tracker="github"),), True, Cursor("github", "github:repo"))
    store.save_pull(None, PullResult("github", (gh,), census=True, seen_ids=frozenset({"1"})), T0)
    store.save_pull(None, PullResult("github", (), census=True, seen_ids=frozenset()), T0 + DAY)
    assert store.known_ids("jira") == frozenset({"1"})
    assert store.known_ids("github") == frozenset()
