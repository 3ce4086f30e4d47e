"""Retention (DESIGN section 12): full history inside `keep_days`, one item version per item per UTC day
beyond it, finished journal entries and runs older than the window deleted — in bounded batches, so a
ten-minute `run` prunes a little each time and never holds a lock for long.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, exists, func, select, update

from connector.store import bulk
from connector.store.tables import item_versions, runs, store_meta, tracker_syncs, write_journal
from connector.store.types import as_utc

FINISHED_JOURNAL = ("confirmed", "failed", "superseded")  # planned/sent are kept: a resumed apply needs them
DONE = "done"  # Status.DONE as stored
THINNED_BEFORE = "retention.thinned_before"  # versions before this UTC midnight are one per item per day
JOURNAL_MARK = "retention.journal_settled_id"  # journal ids up to this one were looked at and settled
PRUNED_SYNCS = "retention.pruned_ok_syncs"  # {tracker: n}: keeps sync_count (the census cadence) monotonic
DEFAULT_BATCH = 2000


@dataclass
class PruneCounts:
    """What one prune call removed; `more` says a later call has work left (the batch bound was hit)."""

    versions: int = 0  # item versions merged away beyond the window
    runs: int = 0
    syncs: int = 0  # tracker_syncs rows of those runs
    journal: int = 0
    more: bool = False

    def add(self, other: PruneCounts) -> None:
        self.versions += other.versions
        self.runs += other.runs
        self.syncs += other.syncs
        self.journal += other.journal
        self.more = other.more

    def as_dict(self) -> dict[str, Any]:
        return {"versions": self.versions, "runs": self.runs, "syncs": self.syncs, "journal": self.journal,
                "more": self.more}


@dataclass(frozen=True)
class Cutoff:
    at: datetime  # UTC midnight: everything strictly before it is beyond the window
    keep_days: int


def cutoff(keep_days: int, now: datetime) -> Cutoff:
    if keep_days < 1:
        raise ValueError("keep_days must be at least 1")
    day = (as_utc(now) - timedelta(days=keep_days)).date()
    return Cutoff(datetime.combine(day, time(), tzinfo=UTC), keep_days)


def get_meta(conn: Connection, key: str) -> str | None:
    return conn.execute(select(store_meta.c.value).where(store_meta.c.key == key)).scalar_one_or_none()


def set_meta(conn: Connection, key: str, value: str) -> None:
    bulk.upsert(conn, store_meta, [{"key": key, "value": value}], keys=("key",))


def pruned_syncs(conn: Connection, tracker: str) -> int:
    return int(json.loads(get_meta(conn, PRUNED_SYNCS) or "{}").get(tracker, 0))


# --- item versions ------------------------------------------------------------------------------


def thin_versions(conn: Connection, edge: Cutoff, batch: int) -> tuple[int, bool]:
    """Merge each item's versions of one UTC day (before the cutoff) into the day's last one (and keep a
    done version that a reopening the same day followed, which throughput counts).

    Works forward from a watermark one day at a time, so each call reads only days not thinned yet
    (never the whole history again). The kept version takes the day's first valid_from: the chain of
    [valid_from, valid_to) intervals stays gapless and every instant from the end of that day on
    sees exactly what it saw before. Returns (versions removed, whether days remain).
    """
    v = item_versions.c
    mark = get_meta(conn, THINNED_BEFORE)
    if mark is not None:
        day = datetime.fromisoformat(mark)
    else:
        first = conn.execute(select(func.min(v.valid_from))).scalar_one_or_none()
        if first is None:
            return 0, False
        day = datetime.combine(as_utc(first).date(), time(), tzinfo=UTC)
    removed = examined = 0
    start = day
    while day < edge.at and examined < batch:
        nxt = day + timedelta(days=1)
        rows = conn.execute(select(v.id, v.tracker, v.item_id, v.valid_from, v.status)
                            .where(v.valid_from >= day, v.valid_from < nxt)).all()
        examined += len(rows)
        groups: dict[tuple[str, str], list[Any]] = {}
        for r in rows:
            groups.setdefault((r.tracker, r.item_id), []).append(r)
        drop: list[int] = []
        moves: list[dict[str, Any]] = []
        for group in groups.values():
            if len(group) < 2:
                continue
            group.sort(key=lambda r: (as_utc(r.valid_from), r.id))
            segment: list[Any] = []
            for i, r in enumerate(group):
                segment.append(r)
                last = i == len(group) - 1
                # A completion undone the same day (done, then reopened) is kept as well: throughput,
                # and so every forecast inside the window, counts it.
                undone = r.status == DONE and not last and group[i + 1].status != DONE
                if last or undone:
                    drop += [x.id for x in segment[:-1]]
                    if len(segment) > 1:
                        moves.append({"b_id": r.id, "b_from": as_utc(segment[0].valid_from)})
                    segment = []
        for part in bulk.chunks(drop):
            conn.execute(delete(item_versions).where(v.id.in_(part)))
        if moves:
            conn.execute(update(item_versions).where(v.id == bindparam("b_id"))
                         .values(valid_from=bindparam("b_from")), moves)
        removed += len(drop)
        day = nxt
    if day != start or mark is None:
        set_meta(conn, THINNED_BEFORE, day.isoformat())
    return removed, day < edge.at


# --- runs and the journal -----------------------------------------------------------------------


def prune_runs(conn: Connection, edge: Cutoff, batch: int) -> tuple[int, int, bool]:
    """Delete up to `batch` runs started before the cutoff, with their tracker syncs.

    Reads from the oldest run id on, so the cost is the batch, not the table. Each tracker's newest
    good sync is kept whatever its age (it is the data's freshness), and the good syncs deleted are
    counted in store_meta so the census cadence (every N-th sync) is unchanged.
    """
    s = tracker_syncs.c
    oldest = conn.execute(select(runs.c.started).order_by(runs.c.id).limit(1)).scalar_one_or_none()
    if oldest is None or as_utc(oldest) >= edge.at:
        return 0, 0, False  # the usual case inside a run: one primary-key lookup
    head = conn.execute(select(runs.c.id, runs.c.started).order_by(runs.c.id).limit(batch + 64)).all()
    ids = []
    for r in head:
        if as_utc(r.started) >= edge.at:
            break
        ids.append(r.id)
    if not ids:
        return 0, 0, False
    newer = tracker_syncs.alias("newer")
    protected = set(conn.execute(select(s.run_id).where(
        s.run_id.in_(ids), s.ok.is_(True),
        ~exists().where(newer.c.tracker == s.tracker, newer.c.ok.is_(True), newer.c.id > s.id))).scalars())
    ids = [i for i in ids if i not in protected][:batch]
    if conn.dialect.name == "postgresql":  # two pruners at once (a run and `store prune`) take turns here
        conn.execute(select(store_meta.c.key).where(store_meta.c.key == PRUNED_SYNCS).with_for_update())
    counted: dict[str, int] = {}
    syncs = 0
    for part in bulk.chunks(ids):
        # counted from what this statement deleted, so a concurrent pruner's rows are never counted twice
        for tracker, ok in conn.execute(delete(tracker_syncs).where(s.run_id.in_(part))
                                        .returning(s.tracker, s.ok)):
            syncs += 1
            if ok:
                counted[tracker] = counted.get(tracker, 0) + 1
        conn.execute(delete(runs).where(runs.c.id.in_(part)))
    if counted:
        totals = json.loads(get_meta(conn, PRUNED_SYNCS) or "{}")
        for tracker, n in counted.items():
            totals[tracker] = totals.get(tracker, 0) + n
        set_meta(conn, PRUNED_SYNCS, json.dumps(totals, sort_keys=True))
    return len(ids), syncs, len(ids) == batch


def prune_journal(conn: Connection, edge: Cutoff, batch: int) -> tuple[int, bool]:
    """Delete finished entries last updated before the cutoff, oldest id first, up to `batch`.

    A watermark (the highest id looked at and settled) keeps each call to the batch's cost; entries
    behind it that stay are unfinished ones (planned or sent), which a resumed apply still needs.
    """
    j = write_journal.c
    mark = int(get_meta(conn, JOURNAL_MARK) or 0)
    first = conn.execute(select(j.updated).where(j.id > mark).order_by(j.id).limit(1)).scalar_one_or_none()
    if first is None or as_utc(first) >= edge.at:
        return 0, False  # the usual case inside a run: one primary-key lookup
    rows = conn.execute(select(j.id, j.state, j.updated).where(j.id > mark).order_by(j.id).limit(batch)).all()
    drop: list[int] = []
    settled = mark
    for r in rows:
        if as_utc(r.updated) >= edge.at:
            break  # this one and every newer entry is inside the window (or was touched recently)
        if r.state in FINISHED_JOURNAL:
            drop.append(r.id)
        settled = r.id
    for part in bulk.chunks(drop):
        conn.execute(delete(write_journal).where(j.id.in_(part)))
    if settled != mark:
        set_meta(conn, JOURNAL_MARK, str(settled))
    return len(drop), len(rows) == batch and settled == rows[-1].id
