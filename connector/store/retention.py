"""Retention (DESIGN section 12): full history inside `keep_days`, one item version per item per UTC day
beyond it, finished journal entries and runs older than the window deleted — in bounded batches, so a
ten-minute `run` prunes a little each time and never holds a lock for long.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, update

from connector.store import bulk
from connector.store.tables import item_versions, runs, store_meta, tracker_syncs, write_journal
from connector.store.types import as_utc

FINISHED_JOURNAL = ("confirmed", "failed", "superseded")  # planned/sent are kept: a resumed apply needs them
THINNED_BEFORE = "retention.thinned_before"  # versions before this UTC midnight are one per item per day
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
    """Merge each item's versions of one UTC day (before the cutoff) into the day's last one.

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
    while day < edge.at and examined < batch:
        nxt = day + timedelta(days=1)
        rows = conn.execute(select(v.id, v.tracker, v.item_id, v.valid_from)
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
            keeper = group[-1]
            drop += [r.id for r in group[:-1]]
            moves.append({"b_id": keeper.id, "b_from": as_utc(group[0].valid_from)})
        for part in bulk.chunks(drop):
            conn.execute(delete(item_versions).where(v.id.in_(part)))
        if moves:
            conn.execute(update(item_versions).where(v.id == bindparam("b_id"))
                         .values(valid_from=bindparam("b_from")), moves)
        removed += len(drop)
        day = nxt
    set_meta(conn, THINNED_BEFORE, day.isoformat())
    return removed, day < edge.at


# --- runs and the journal -----------------------------------------------------------------------


def prune_runs(conn: Connection, edge: Cutoff, batch: int) -> tuple[int, int, bool]:
    """Delete up to `batch` runs started before the cutoff, with their tracker syncs.

    Each tracker's newest good sync is kept whatever its age (it is the data's freshness), and the
    good syncs deleted are counted in store_meta so the census cadence (every N-th sync) is unchanged.
    """
    s = tracker_syncs.c
    newest_ok = select(func.max(s.id)).where(s.ok.is_(True)).group_by(s.tracker)
    protected = set(conn.execute(select(s.run_id).where(s.id.in_(newest_ok))).scalars())
    ids = [i for i in conn.execute(select(runs.c.id).where(runs.c.started < edge.at)
                                   .order_by(runs.c.id).limit(batch + len(protected))).scalars()
           if i not in protected][:batch]
    if not ids:
        return 0, 0, False
    counted: dict[str, int] = {}
    syncs = 0
    for part in bulk.chunks(ids):
        for tracker, n in conn.execute(select(s.tracker, func.count()).where(s.run_id.in_(part), s.ok.is_(True))
                                       .group_by(s.tracker)):
            counted[tracker] = counted.get(tracker, 0) + n
        syncs += conn.execute(delete(tracker_syncs).where(s.run_id.in_(part))).rowcount
        conn.execute(delete(runs).where(runs.c.id.in_(part)))
    if counted:
        totals = json.loads(get_meta(conn, PRUNED_SYNCS) or "{}")
        for tracker, n in counted.items():
            totals[tracker] = totals.get(tracker, 0) + n
        set_meta(conn, PRUNED_SYNCS, json.dumps(totals, sort_keys=True))
    return len(ids), syncs, len(ids) == batch


def prune_journal(conn: Connection, edge: Cutoff, batch: int) -> tuple[int, bool]:
    j = write_journal.c
    ids = list(conn.execute(select(j.id).where(j.state.in_(FINISHED_JOURNAL), j.updated < edge.at)
                            .order_by(j.id).limit(batch)).scalars())
    for part in bulk.chunks(ids):
        conn.execute(delete(write_journal).where(j.id.in_(part)))
    return len(ids), len(ids) == batch
