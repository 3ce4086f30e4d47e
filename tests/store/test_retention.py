"""Retention: full history inside keep_days, one version per item per day beyond it, finished runs and
journal entries pruned in bounded batches, and what reports read inside the window unchanged."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from connector.model import Cursor, Status
from connector.store import Store
from connector.store.tables import item_versions
from connector.values import LabelChange, PullResult, ScopePull
from tests.fixtures.store import make_item

DAY0 = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)  # old days, far beyond a 30-day window at NOW
NOW = DAY0 + timedelta(days=100)


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch):
    """Runs are stamped with connector.clock.now(); _pull moves it (monkeypatch restores it after)."""
    monkeypatch.setenv("PLANSYNC_NOW", NOW.isoformat())


def _pull(store: Store, at: datetime, *items, census: bool = False) -> None:
    os.environ["PLANSYNC_NOW"] = at.isoformat()
    run = store.begin_run("run", ["jira"])
    scope = ScopePull("jira:a", tuple(items), census, Cursor("jira", "jira:a", updated=at))
    store.save_pull(run, PullResult("jira", (scope,)), at)
    store.mark_tracker_synced(run, "jira", ok=True)
    store.finish_run(run, "success")


def _versions(store: Store, item_id: str) -> list[tuple[datetime, datetime | None, str]]:
    v = item_versions.c
    query = select(v.valid_from, v.valid_to, v.status).where(v.item_id == item_id).order_by(v.valid_from)
    return store._read(lambda c: [(r.valid_from, r.valid_to, r.status) for r in c.execute(query)])


def _busy_day(store: Store, day: datetime, item_id: int = 1) -> None:
    """An item that changes three times in one day: todo at 09:00, in progress at 11:00, done at 15:00."""
    for hour, status in ((9, Status.TODO), (11, Status.IN_PROGRESS), (15, Status.DONE)):
        at = day + timedelta(hours=hour)
        _pull(store, at, make_item(item_id, status=status, updated=at, resolved=at if status is Status.DONE else None))


def test_versions_beyond_the_window_become_one_per_item_per_day(store):
    _busy_day(store, DAY0)
    inside = NOW - timedelta(days=5)
    _busy_day(store, inside, item_id=2)
    before_inside = _versions(store, "2")
    counts = store.prune_all(30, NOW)
    assert counts.versions == 2
    assert [(f, t, s) for f, t, s in _versions(store, "1")] == [(DAY0 + timedelta(hours=9), None, "done")]
    assert _versions(store, "2") == before_inside  # inside the window: every version kept
    assert len(before_inside) == 3
    # the end of the thinned day and every instant after it see what they saw before
    assert store.items_as_of(DAY0 + timedelta(hours=23))[0].status is Status.DONE
    assert [i.id for i in store.items_as_of(DAY0 + timedelta(hours=8))] == []
    # the done event survives the merge, with the tracker's resolution time
    assert (("jira", "1", DAY0 + timedelta(hours=15)) in store.done_events())


def test_a_completion_reopened_the_same_day_still_counts_after_thinning(store):
    _busy_day(store, DAY0)
    reopened = DAY0 + timedelta(hours=18)
    _pull(store, reopened, make_item(1, status=Status.IN_PROGRESS, updated=reopened))
    before = store.done_events()
    assert [e[:2] for e in before] == [("jira", "1")]
    assert store.prune_all(30, NOW).versions == 2  # todo + in progress merged; done and the last kept
    assert [s for _, _, s in _versions(store, "1")] == ["done", "in_progress"]
    assert store.done_events() == before
    assert store.items_as_of(DAY0 + timedelta(hours=23))[0].status is Status.IN_PROGRESS


def test_thinning_keeps_the_chain_of_intervals_gapless_across_days(store):
    _busy_day(store, DAY0)
    nxt = DAY0 + timedelta(days=1, hours=10)
    _pull(store, nxt, make_item(1, status=Status.IN_PROGRESS, updated=nxt))  # reopened the next day
    store.prune_all(30, NOW)
    chain = _versions(store, "1")
    assert [s for _, _, s in chain] == ["done", "in_progress"]
    assert chain[0][1] == chain[1][0] == nxt
    assert store.items_as_of(nxt - timedelta(minutes=1))[0].status is Status.DONE


def test_reports_inputs_for_a_week_inside_the_window_are_unchanged(store):
    for d in range(60):  # two items changing several times a day for sixty days
        day = NOW - timedelta(days=60 - d)
        _busy_day(store, day, item_id=1 + d % 2)
    week_start = NOW - timedelta(days=21)
    week_end = week_start + timedelta(days=7)
    seen = (store.items_as_of(week_start), store.items_as_of(week_end), store.changes(week_start, week_end),
            store.done_events(), store.last_good_sync("jira"))
    counts = store.prune_all(30, NOW)
    assert counts.versions > 0 and counts.runs > 0
    assert (store.items_as_of(week_start), store.items_as_of(week_end), store.changes(week_start, week_end),
            store.done_events(), store.last_good_sync("jira")) == seen


def test_runs_are_pruned_but_the_census_count_and_freshness_stay(store):
    for d in range(5):
        _pull(store, DAY0 + timedelta(days=d), make_item(1, updated=DAY0 + timedelta(days=d)))
    assert store.sync_count("jira") == 5
    store.prune_all(30, NOW)
    assert len(store.runs(limit=100)) == 1  # the newest good sync of a tracker is its freshness: kept
    assert store.sync_count("jira") == 5
    assert store.last_good_sync("jira") is not None
    _pull(store, NOW, make_item(1, updated=NOW))
    assert store.prune_all(30, NOW).runs == 1
    assert store.sync_count("jira") == 6


def test_finished_journal_entries_go_and_unfinished_ones_stay(store, monkeypatch):
    monkeypatch.setenv("PLANSYNC_NOW", DAY0.isoformat())
    changes = [LabelChange("jira", str(i), f"CHK-{i}", add=frozenset({"plan:at-risk"})) for i in range(4)]
    ids = store.journal_plan(None, changes)
    store.journal_mark(ids[0], "confirmed")
    store.journal_mark(ids[1], "failed", "boom")
    store.journal_mark(ids[2], "sent")  # a crash mid-apply: resume needs it, whatever its age
    monkeypatch.setenv("PLANSYNC_NOW", (NOW - timedelta(days=1)).isoformat())
    [recent] = store.journal_plan(None, changes[:1])
    store.journal_mark(recent, "confirmed")
    assert store.prune_all(30, NOW).journal == 2
    assert [e.id for e in store.journal()] == [ids[2], ids[3], recent]
    assert [e.id for e in store.journal_unfinished()] == [ids[2], ids[3]]


def test_each_prune_call_is_bounded_by_its_batch(store):
    for d in range(12):
        _pull(store, DAY0 + timedelta(days=d), make_item(1, updated=DAY0 + timedelta(days=d)))
    first = store.prune(30, NOW, batch=5)
    assert first.runs == 5 and first.more
    calls = 1
    while store.prune(30, NOW, batch=5).more:
        calls += 1
    assert calls >= 2
    assert len(store.runs(limit=100)) == 1
    assert store.prune(30, NOW, batch=5).as_dict() == {"versions": 0, "runs": 0, "syncs": 0, "journal": 0,
                                                        "more": False}


def test_nothing_inside_the_window_is_touched(store):
    _busy_day(store, NOW - timedelta(days=3))
    counts = store.prune_all(400, NOW)
    assert counts.as_dict() == {"versions": 0, "runs": 0, "syncs": 0, "journal": 0, "more": False}
    assert store._read(lambda c: c.execute(select(func.count()).select_from(item_versions)).scalar_one()) == 3


def test_info_reports_rows_oldest_data_size_and_schema(store):
    _busy_day(store, DAY0)
    info = store.info()
    assert info.schema == info.head == store.schema_revision()
    assert info.engine == store.dialect
    assert info.rows["item_versions"] == 3 and info.rows["runs"] == 3 and info.rows["items"] == 1
    assert info.oldest["item version"] == DAY0 + timedelta(hours=9)
    assert info.size_bytes and info.size_bytes > 0
    store.prune_all(30, NOW)
    after = store.info()
    assert after.rows["item_versions"] == 1
    assert after.thinned_before is not None and after.thinned_before.startswith(str((NOW - timedelta(days=30)).date()))
