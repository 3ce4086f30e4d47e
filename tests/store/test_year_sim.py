"""The simulated year compresses runs where nothing changed (`benchmarks.year_sim.idle_runs`); that is
honest only if the compressed runs leave the store exactly as the same runs made one by one would."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from benchmarks import year_sim
from connector.model import Cursor
from connector.store import Store
from connector.store.tables import cursors, runs, store_meta, tracker_syncs
from connector.values import PullResult, ScopePull

DAY = datetime(2027, 3, 1, tzinfo=UTC)  # a Monday


@pytest.fixture(autouse=True)
def _clock(monkeypatch):
    monkeypatch.setenv("PLANSYNC_NOW", DAY.isoformat())


def _real_idle_run(store: Store, at: datetime, keep_days: int) -> None:
    """What `plansync run` does to the store when the repository answered 304: nothing pulled."""
    os.environ["PLANSYNC_NOW"] = at.isoformat()
    run = store.begin_run("run", ["github"])
    kept = store.get_cursors("github")[year_sim.SCOPE]
    cursor = Cursor("github", year_sim.SCOPE, updated=kept.updated, etag=kept.etag)
    store.save_pull(run, PullResult("github", (ScopePull(year_sim.SCOPE, (), False, cursor),)), at)
    store.mark_tracker_synced(run, "github", ok=True, census=False, requests=year_sim.IDLE_REQUESTS)
    store.finish_run(run, "success", counts={"github": {"items_pulled": 0, "writes": 0}},
                     requests={"github": year_sim.IDLE_REQUESTS})
    store.prune(keep_days, at, batch=50)


def _dump(store: Store) -> dict:
    def work(conn):
        return {
            "runs": [tuple(r)[1:] for r in conn.execute(select(runs).order_by(runs.c.id))],
            "syncs": [tuple(r)[2:] for r in conn.execute(select(tracker_syncs).order_by(tracker_syncs.c.id))],
            "cursors": [tuple(r) for r in conn.execute(select(cursors))],
            "meta": sorted(tuple(r) for r in conn.execute(select(store_meta))),
        }
    return store._read(work)


def _history(store: Store, org: year_sim.Org, keep_days: int) -> None:
    """A census and eight days of changes in working hours, so the prune steps have work to do."""
    sched = year_sim.Schedule(24, (9, 17), False, 0.05, 100, 3)
    year_sim.census(store, org, DAY - timedelta(days=8))
    year_sim.run_days(store, org, sched, DAY - timedelta(days=8), 8, keep_days=keep_days, batch=50, k0=0,
                      walls=None, bulk_journal=False, skip_first=True)


def test_compressed_idle_runs_leave_the_store_as_the_runs_one_by_one(tmp_path):
    keep = 3
    times = [DAY + timedelta(hours=h) for h in range(0, 8)]  # the night before a working day
    stores = []
    for name in ("one_by_one", "compressed"):
        store = Store.open(f"sqlite:///{tmp_path / name}.db")
        _history(store, year_sim.Org(100, 3, DAY - timedelta(days=8)), keep)
        stores.append(store)
    before = _dump(stores[0])
    assert before == _dump(stores[1])  # the same seeded history in both
    for at in times:
        _real_idle_run(stores[0], at, keep)
    year_sim.idle_runs(stores[1], times, keep_days=keep, batch=50)
    after = [_dump(s) for s in stores]
    assert after[0] == after[1]
    assert len(after[0]["runs"]) < len(before["runs"]) + len(times)  # the prune steps removed old runs
    for s in stores:
        s.close()
