"""The pieces of the simulated year (`bench_retention.py`): a synthetic organisation, the day's run
schedule, a full run (what `plansync run` does to the store, without HTTP), idle runs written in
bulk, the seed of a store whose window is already full, and per-table sizes at checkpoints.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from connector.model import Cursor, Status, WorkItem
from connector.store import Store, bulk
from connector.store.codec import dump_list
from connector.store.pulls import _cursor_row, apply_row_changes
from connector.store.tables import cursors, runs, tracker_syncs, write_journal
from connector.values import LabelChange, PullResult, ScopePull

MILESTONES = ("alpha", "beta", "ga", "later")
REQUESTS = {"requests": 3, "reads": 3, "writes": 0, "not_modified": 2, "retries": 0, "seconds": 0.41}
IDLE_REQUESTS = {"requests": 1, "reads": 0, "writes": 0, "not_modified": 1, "retries": 0, "seconds": 0.12}
FLOW = {Status.TODO: Status.IN_PROGRESS, Status.IN_PROGRESS: Status.DONE, Status.DONE: Status.DONE,
        Status.BLOCKED: Status.IN_PROGRESS, Status.DROPPED: Status.DROPPED}
SCOPE = "github:acme/web"


class Org:
    """A GitHub-like organisation whose items move todo → in progress → done, some blocked or dropped."""

    def __init__(self, items: int, seed: int, start: datetime) -> None:
        self.rng = random.Random(seed)
        self.start = start
        self.items: dict[str, WorkItem] = {}
        self.ids: list[str] = []
        for _ in range(items):
            self.new(start - timedelta(days=self.rng.randint(1, 300)))

    def new(self, at: datetime) -> WorkItem:
        n = len(self.items) + 1
        ms = MILESTONES[n % len(MILESTONES)]
        status = self.rng.choices(list(FLOW), weights=(40, 20, 30, 5, 5))[0] if at < self.start else Status.TODO
        item = WorkItem(
            tracker="github", id=str(500_000 + n), key=f"acme/web#{n}", container="acme/web",
            url=f"https://github.example.test/acme/web/issues/{n}", title=f"Checkout task {n}: the payment form",
            type="issue", status=status, raw_status="closed" if not status.is_open else "open", created=at,
            updated=at, resolved=at if status is Status.DONE else None, assignees=(f"dev{n % 60}",),
            labels=(ms,), milestones=(), due=date(2027, 3, 1) if n % 7 == 0 else None)
        self.items[item.id] = item
        self.ids.append(item.id)
        return item

    def change(self, at: datetime, pool: int | None = None) -> WorkItem:
        """Change a random item (among the first `pool` ever created, if given)."""
        old = self.items[self.ids[self.rng.randrange(pool or len(self.ids))]]
        status = FLOW[old.status] if self.rng.random() < 0.7 else old.status
        if old.status is Status.DONE and self.rng.random() < 0.05:
            status = Status.IN_PROGRESS  # reopened
        resolved = (old.resolved if old.status is Status.DONE else at) if status is Status.DONE else None
        item = replace(old, status=status, raw_status="open" if status.is_open else "closed", updated=at,
                       resolved=resolved, assignees=(f"dev{self.rng.randint(0, 59)}",))
        self.items[item.id] = item
        return item


def spread(total: float, parts: int, k: int) -> int:
    """How many of `total` events fall into part k of `parts`: integer counts that add up over the parts."""
    per = total / parts
    return int((k + 1) * per) - int(k * per)


@dataclass
class Schedule:
    """Which of a day's runs carry the churn. The rest are runs where nothing changed (a 304 on the
    repository): `idle_runs` writes exactly the rows such runs leave, in bulk."""

    runs_per_day: int
    hours: tuple[int, int]  # the working day, UTC: changes land in runs starting in [from, to)
    weekends: bool  # whether Saturdays and Sundays see changes too
    change_rate: float
    base_items: int
    new_per_day: float
    every: int = 1  # only every n-th run of the working day carries changes (the seed uses 6)

    def active(self, day: datetime) -> list[int]:
        if not self.weekends and day.weekday() >= 5:
            return []
        per_hour = self.runs_per_day / 24
        first, last = int(self.hours[0] * per_hour), int(self.hours[1] * per_hour)
        return list(range(first, last, self.every))

    def active_days_per_week(self) -> int:
        return 7 if self.weekends else 5

    def churn(self, day: datetime) -> tuple[float, float]:
        """(changes, new items) of `day`: the weekly total (7 × the daily rate) over its active days."""
        if not self.active(day):
            return 0.0, 0.0
        scale = 7 / self.active_days_per_week()
        return self.base_items * self.change_rate * scale, self.new_per_day * scale


@dataclass
class Walls:
    day: list[int] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def full_run(store: Store, org: Org, at: datetime, n_change: int, n_new: int, *, keep_days: int, batch: int,
             k: int, bulk_journal: bool = False, pool: int | None = None) -> None:
    """One ten-minute `run` that found changes: a run row, an incremental pull of the changed items, a
    sync, label writes journaled (planned, sent, confirmed, one commit each) for a third of them, the
    run finished, one bounded prune step. `bulk_journal` (the seed) writes the same final journal rows
    and labels in one transaction instead of three commits per write."""
    os.environ["PLANSYNC_NOW"] = at.isoformat()
    run = store.begin_run("run", ["github"])
    changed = [org.change(at, pool) for _ in range(n_change)] + [org.new(at) for _ in range(n_new)]
    unique = {i.id: i for i in changed}
    cursor = Cursor("github", SCOPE, updated=at, etag=f'W/"{k}"')
    store.save_pull(run, PullResult("github", (ScopePull(SCOPE, tuple(unique.values()), False, cursor),)), at)
    store.mark_tracker_synced(run, "github", ok=True, census=False, requests=REQUESTS)
    writes = [LabelChange("github", i.id, i.key, add=frozenset({"plan:at-risk"}) if i.status.is_open else frozenset(),
                          remove=frozenset() if i.status.is_open else frozenset({"plan:at-risk"}),
                          reasons=("health",)) for i in list(unique.values())[::3]]
    labels = {}
    for change in writes:
        item = org.items[change.item_id]
        labels[item.id] = tuple(sorted(set(item.labels) - change.remove | change.add))
        org.items[item.id] = replace(item, labels=labels[item.id])
    if bulk_journal:
        _journal_bulk(store, run, writes, labels, at)
    else:
        for entry, change in zip(store.journal_plan(run, writes), writes, strict=True):
            store.journal_mark(entry, "sent")
            store.journal_confirm(entry, "github", change.item_id, labels[change.item_id], at)
    store.finish_run(run, "success", counts={"github": {"items_pulled": len(unique), "writes": len(writes)}},
                     requests={"github": REQUESTS})
    store.prune(keep_days, at, batch=batch)


def _journal_bulk(store: Store, run: int, writes: list[LabelChange], labels: dict, at: datetime) -> None:
    rows = [{"run_id": run, "tracker": ch.tracker, "item_id": ch.item_id, "key": ch.key,
             "add_labels": dump_list(sorted(ch.add)), "remove_labels": dump_list(sorted(ch.remove)),
             "reasons": dump_list([["", "health", None]]), "state": "confirmed", "error": None,
             "created": at, "updated": at} for ch in writes]
    changes = {item_id: {"labels": dump_list(value)} for item_id, value in labels.items()}

    def work(conn) -> None:
        bulk.insert(conn, write_journal, rows)
        apply_row_changes(conn, "github", changes, at)
    store._write(work)


def idle_runs(store: Store, times: list[datetime], *, keep_days: int, batch: int) -> None:
    """Runs where nothing changed, compressed: the rows each such `run` leaves (its run row, finished,
    with its counts and requests; its tracker sync; the cursor saved again, unchanged) written in one
    transaction, then one prune step with the batch bound of all of them (each of those runs would
    have pruned up to `batch` of each kind; in the steady state one day a day falls due, so the
    store ends the same)."""
    if not times:
        return
    counts = json.dumps({"github": {"items_pulled": 0, "writes": 0}})
    requests = json.dumps({"github": IDLE_REQUESTS})
    rows = [{"command": "run", "trackers": dump_list(["github"]), "started": t, "finished": t,
             "outcome": "success", "counts": counts, "requests": requests, "error": None} for t in times]

    def work(conn) -> None:
        ids = []
        stmt = runs.insert().returning(runs.c.id, sort_by_parameter_order=True)
        for part in bulk.chunks(rows):
            ids += conn.execute(stmt, list(part)).scalars().all()
        bulk.insert(conn, tracker_syncs, [{"run_id": i, "tracker": "github", "ok": True, "census": False,
                                            "requests": json.dumps(IDLE_REQUESTS), "synced_at": t}
                                           for i, t in zip(ids, times, strict=True)])
        current = conn.execute(cursors.select().where(cursors.c.scope_id == SCOPE)).mappings().first()
        if current is not None:
            cursor = Cursor("github", SCOPE, updated=current["updated"], etag=current["etag"])
            bulk.upsert(conn, cursors, [_cursor_row(cursor, "github", times[-1])], keys=("tracker", "scope_id"))
    os.environ["PLANSYNC_NOW"] = times[-1].isoformat()
    store._write(work)
    store.prune(keep_days, times[-1], batch=batch * len(times))


def census(store: Store, org: Org, at: datetime) -> None:
    """The store's first run: a full pull of the organisation."""
    os.environ["PLANSYNC_NOW"] = at.isoformat()
    first = store.begin_run("run", ["github"])
    scope = ScopePull(SCOPE, tuple(org.items.values()), True, Cursor("github", SCOPE, updated=at))
    store.save_pull(first, PullResult("github", (scope,)), at)
    store.mark_tracker_synced(first, "github", ok=True, census=True, requests=REQUESTS)
    store.finish_run(first, "success")


def run_days(store: Store, org: Org, sched: Schedule, start: datetime, days: int, *, keep_days: int, batch: int,
             k0: int, walls: Walls | None, bulk_journal: bool, skip_first: bool = False, on_day=None,
             day0: int = 0) -> int:
    """Run `days` days of ten-minute runs from `start` (day `day0` of the year); full runs are timed into
    `walls`. Returns the number of runs made (full and idle)."""
    step = timedelta(days=1) / sched.runs_per_day
    made = 0
    for d in range(days):
        day = start + timedelta(days=d)
        active = sched.active(day)
        n_change, n_new = sched.churn(day)
        idle: list[datetime] = []
        for kk in range(sched.runs_per_day):
            k = k0 + d * sched.runs_per_day + kk
            if skip_first and d + day0 == 0 and kk == 0:
                continue  # that was the census
            at = day + step * kk
            made += 1
            if kk not in active:
                idle.append(at)
                continue
            idle_runs(store, idle, keep_days=keep_days, batch=batch)
            idle = []
            i = active.index(kk)
            t0, c0 = time.perf_counter(), time.process_time()
            full_run(store, org, at, spread(n_change, len(active), i), spread(n_new, len(active), i),
                     keep_days=keep_days, batch=batch, k=k, bulk_journal=bulk_journal)
            if walls is not None:
                walls.day.append(d + day0)
                walls.wall.append(time.perf_counter() - t0)
                walls.cpu.append(time.process_time() - c0)
        idle_runs(store, idle, keep_days=keep_days, batch=batch)
        if on_day is not None:
            on_day(day0 + d + 1)
    return made


def sizes(store: Store) -> dict:
    """The store's size (SQLite: after a WAL checkpoint, so the file is the store) and, per table
    (indexes included), rows and bytes."""
    from sqlalchemy import text

    if store.dialect == "sqlite":
        with store._engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    info = store.info()
    table_bytes = dict(info.table_bytes)
    free = None
    if store.dialect == "sqlite":
        with store._engine.connect() as conn:
            index_of = {r[0]: r[1] for r in conn.execute(text(
                "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))}
            for name, size in conn.execute(text("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")):
                owner = index_of.get(name, name)
                table_bytes[owner] = table_bytes.get(owner, 0) + int(size)
            page = conn.execute(text("PRAGMA page_size")).scalar_one()
            free = conn.execute(text("PRAGMA freelist_count")).scalar_one() * page
    return {"size": info.size_bytes or 0, "rows": dict(info.rows), "bytes": table_bytes, "free": free,
            "load": os.getloadavg()[0]}


def start_of(day: datetime) -> datetime:
    return datetime.combine(day.date(), datetime.min.time(), tzinfo=UTC)
