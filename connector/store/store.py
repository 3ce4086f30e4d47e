"""`Store`: the one handle the rest of plansync uses for state — runs, pulls, items and their history,
plan snapshots, the write journal and the lease — on SQLite or PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select, update

from connector import clock
from connector.errors import LeaseHeld, StoreError
from connector.model import Cursor, Milestone, Plan, Presence, WorkItem
from connector.store import bulk, engine, history, lease, retention
from connector.store import info as info_module
from connector.store.codec import clean_text, dump_list, item_from_row, load_tuple, milestone_from_row
from connector.store.label_records import LabelRecords, record_row
from connector.store.pulls import SaveSummary, apply_row_changes, load_cursors, save_pull
from connector.store.records import JOURNAL_NEXT, RUN_OUTCOMES, ItemChange, JournalEntry
from connector.store.tables import (
    items,
    label_records,
    milestones,
    plan_snapshots,
    runs,
    scope_members,
    tracker_syncs,
    write_journal,
)
from connector.store.types import as_utc
from connector.values import LabelChange, LabelReason, LabelRecord, PullResult

log = logging.getLogger(__name__)
T = TypeVar("T")
_MAX_ERROR = 2000  # characters of a run's error kept


class Store(LabelRecords):
    """Open with `Store.open(url)`; every public method is one transaction."""

    def __init__(self, url: str, *, busy_timeout: float = engine.SQLITE_BUSY_TIMEOUT) -> None:
        self._url = engine.parse_url(url)
        self.url_for_display = engine.display_url(self._url)
        self._secret = self._url.password
        with self._errors():
            self._engine = engine.make_engine(self._url, busy_timeout=busy_timeout)
        self._write_engine = self._engine.execution_options(**engine.WRITE)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, require_current: bool = False,
             migrate_wait: float = engine.MIGRATE_WAIT,
             busy_timeout: float = engine.SQLITE_BUSY_TIMEOUT) -> Store:
        """Connect and bring the schema to the newest migration.

        `migrate=False, require_current=True` is for teams that migrate explicitly (`plansync store
        upgrade`): an out-of-date schema is then an error, not a migration. `migrate_wait` (seconds)
        is how long to wait for another migrator (then MigrationLocked, exit 4); `busy_timeout`
        (seconds, SQLite only) is how long a writer waits for another one's lock.
        """
        store = cls(url, busy_timeout=busy_timeout)
        try:
            if migrate:
                store.upgrade(wait=migrate_wait)
            elif require_current:
                store.require_current_schema()
        except BaseException:
            store.close()
            raise
        return store

    def upgrade(self, revision: str = "head", *, wait: float = engine.MIGRATE_WAIT) -> bool:
        """Apply migrations up to `revision` (Store.open does this for "head"); True when it migrated."""
        with self._errors():
            return engine.migrate(self._engine, revision, wait=wait)

    def require_current_schema(self) -> None:
        current, head = self.schema_revision(), engine.head_revision()
        if current != head:
            raise StoreError(f"store {self.url_for_display}: schema is at {current or 'empty'}, this plansync "
                             f"needs {head}; run `plansync store upgrade` (store.auto_migrate is off)")

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url_for_display!r})"

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def schema_revision(self) -> str | None:
        with self._errors():
            return engine.current_revision(self._engine)

    # --- plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        with engine.store_errors(self.url_for_display, self._secret):
            yield

    def _read(self, work: Callable[[Connection], T]) -> T:
        with self._errors(), self._engine.begin() as conn:
            return work(conn)

    def _write(self, work: Callable[[Connection], T]) -> T:
        with self._errors(), self._write_engine.begin() as conn:
            return work(conn)

    # --- runs -----------------------------------------------------------------------------------

    def begin_run(self, command: str, trackers: list[str]) -> int:
        values = {"command": command, "trackers": dump_list(trackers), "started": clock.now(),
                  "counts": "{}", "requests": "{}"}
        return self._write(lambda c: c.execute(runs.insert().values(values).returning(runs.c.id)).scalar_one())

    def finish_run(self, run_id: int, outcome: str, counts: dict[str, dict] | None = None,
                   requests: dict[str, dict] | None = None, error: str | None = None) -> None:
        if outcome not in RUN_OUTCOMES:
            raise ValueError(f"run outcome must be one of {RUN_OUTCOMES}, got {outcome!r}")
        values = {"finished": clock.now(), "outcome": outcome,
                  "counts": json.dumps(counts or {}, default=str),
                  "requests": json.dumps(requests or {}, default=str),
                  "error": self._scrub(error)[:_MAX_ERROR] if error else None}
        self._write(lambda c: c.execute(update(runs).where(runs.c.id == run_id).values(values)))

    def mark_tracker_synced(self, run_id: int, tracker: str, ok: bool, census: bool = False,
                            requests: dict | None = None) -> None:
        values = {"run_id": run_id, "tracker": tracker, "ok": ok, "census": census,
                  "requests": json.dumps(requests or {}, default=str), "synced_at": clock.now()}
        self._write(lambda c: c.execute(tracker_syncs.insert().values(values)))

    def last_good_sync(self, tracker: str) -> datetime | None:
        """When the last successful pull of `tracker` finished: the data's freshness."""
        query = select(func.max(tracker_syncs.c.synced_at)).where(
            tracker_syncs.c.tracker == tracker, tracker_syncs.c.ok.is_(True))
        value = self._read(lambda c: c.execute(query).scalar_one_or_none())
        return as_utc(value) if isinstance(value, datetime) else None

    def last_sync_ok(self, tracker: str) -> bool | None:
        """Whether the latest recorded pull of `tracker` worked (None: never pulled)."""
        query = select(tracker_syncs.c.ok).where(tracker_syncs.c.tracker == tracker) \
            .order_by(tracker_syncs.c.id.desc()).limit(1)
        value = self._read(lambda c: c.execute(query).scalar_one_or_none())
        return None if value is None else bool(value)

    def sync_count(self, tracker: str) -> int:
        """Good syncs of `tracker` ever, pruned ones included (the census cadence counts them)."""
        query = select(func.count()).select_from(tracker_syncs).where(
            tracker_syncs.c.tracker == tracker, tracker_syncs.c.ok.is_(True))
        return self._read(lambda c: c.execute(query).scalar_one() + retention.pruned_syncs(c, tracker))

    def runs(self, limit: int = 20) -> list[dict]:
        """The newest runs first, each with its per-tracker sync results under "syncs"."""
        def work(conn: Connection) -> list[dict]:
            rows = conn.execute(select(runs).order_by(runs.c.id.desc()).limit(limit)).mappings().all()
            syncs: dict[int, dict] = {}
            ids = [r["id"] for r in rows]
            if ids:
                for s in conn.execute(select(tracker_syncs).where(tracker_syncs.c.run_id.in_(ids))
                                      .order_by(tracker_syncs.c.id)).mappings():
                    syncs.setdefault(s["run_id"], {})[s["tracker"]] = {
                        "ok": s["ok"], "census": s["census"], "requests": json.loads(s["requests"]),
                        "synced_at": s["synced_at"]}
            return [{**dict(r), "trackers": list(load_tuple(r["trackers"])), "counts": json.loads(r["counts"]),
                     "requests": json.loads(r["requests"]), "syncs": syncs.get(r["id"], {})} for r in rows]
        return self._read(work)

    # --- pulls and items ------------------------------------------------------------------------

    def get_cursors(self, tracker: str) -> dict[str, Cursor]:
        return self._read(lambda c: load_cursors(c, tracker))

    def save_pull(self, run_id: int | None, result: PullResult, observed_at: datetime) -> SaveSummary:
        """Store everything one pull returned in ONE transaction (nothing of it if anything fails)."""
        return self._write(lambda c: save_pull(c, result, observed_at))

    def items(self, tracker: str | None = None, present_only: bool = True) -> list[WorkItem]:
        query = select(items)
        if tracker is not None:
            query = query.where(items.c.tracker == tracker)
        if present_only:
            query = query.where(items.c.presence == str(Presence.PRESENT))
        query = query.order_by(items.c.tracker, items.c.item_id)
        return self._read(lambda c: [item_from_row(r) for r in c.execute(query).mappings()])

    def item(self, tracker: str, item_id: str) -> WorkItem | None:
        query = select(items).where(items.c.tracker == tracker, items.c.item_id == item_id)
        row = self._read(lambda c: c.execute(query).mappings().first())
        return item_from_row(row) if row else None

    def known_ids(self, tracker: str) -> frozenset[str]:
        query = select(items.c.item_id).where(items.c.tracker == tracker,
                                              items.c.presence == str(Presence.PRESENT))
        return self._read(lambda c: frozenset(c.execute(query).scalars()))

    def scope_members(self, scope_ids: Iterable[str] | None = None) -> dict[str, frozenset[tuple[str, str]]]:
        wanted = None if scope_ids is None else list(dict.fromkeys(scope_ids))

        def work(conn: Connection) -> dict[str, frozenset[tuple[str, str]]]:
            found: dict[str, set[tuple[str, str]]] = {s: set() for s in wanted or ()}
            queries = [select(scope_members)] if wanted is None else [
                select(scope_members).where(scope_members.c.scope_id.in_(part)) for part in bulk.chunks(wanted)]
            for query in queries:
                for r in conn.execute(query):
                    found.setdefault(r.scope_id, set()).add((r.tracker, r.item_id))
            return {k: frozenset(v) for k, v in found.items()}
        return self._read(work)

    def milestones(self, tracker: str | None = None) -> list[Milestone]:
        query = select(milestones).order_by(milestones.c.tracker, milestones.c.milestone_id)
        if tracker is not None:
            query = query.where(milestones.c.tracker == tracker)
        return self._read(lambda c: [milestone_from_row(r) for r in c.execute(query).mappings()])

    def set_item_labels(self, tracker: str, item_id: str, labels: tuple[str, ...],
                        observed_at: datetime) -> bool:
        """Record labels a confirmed write put on the tracker (with history); False if unknown/unchanged."""
        changes = {item_id: {"labels": dump_list(labels)}}
        return self._write(lambda c: apply_row_changes(c, tracker, changes, as_utc(observed_at)) == 1)

    # --- history --------------------------------------------------------------------------------

    def items_as_of(self, instant: datetime, tracker: str | None = None) -> list[WorkItem]:
        return self._read(lambda c: history.items_as_of(c, as_utc(instant), tracker))

    def changes(self, since: datetime, until: datetime) -> list[ItemChange]:
        """Tracked-field changes the store observed in [since, until), oldest first."""
        return self._read(lambda c: history.changes(c, as_utc(since), as_utc(until)))

    def done_events(self, since: datetime | None = None) -> list[tuple[str, str, datetime]]:
        return self._read(lambda c: history.done_events(c, as_utc(since) if since else None))

    # --- retention and upkeep -----------------------------------------------------------------

    def prune(self, keep_days: int, now: datetime | None = None, *,
              batch: int = retention.DEFAULT_BATCH) -> retention.PruneCounts:
        """One bounded step of retention (DESIGN section 12): at most about `batch` rows of each kind,
        each kind in its own short transaction. `counts.more` says another call has work left."""
        edge = retention.cutoff(keep_days, as_utc(now or clock.now()))
        counts = retention.PruneCounts()
        counts.versions, more_versions = self._write(lambda c: retention.thin_versions(c, edge, batch))
        counts.runs, counts.syncs, more_runs = self._write(lambda c: retention.prune_runs(c, edge, batch))
        counts.journal, more_journal = self._write(lambda c: retention.prune_journal(c, edge, batch))
        counts.more = more_versions or more_runs or more_journal
        return counts

    def prune_all(self, keep_days: int, now: datetime | None = None, *,
                  batch: int = retention.DEFAULT_BATCH) -> retention.PruneCounts:
        """Prune until nothing beyond the window is left (`plansync store prune`)."""
        total = retention.PruneCounts(more=True)
        while total.more:
            total.add(self.prune(keep_days, now, batch=batch))
        return total

    def info(self) -> info_module.StoreInfo:
        head = engine.head_revision()
        return self._read(lambda c: info_module.collect(c, url=self.url_for_display,
                                                        schema=engine.current_revision_on(c), head=head))

    # --- plan snapshots -------------------------------------------------------------------------

    def save_plan_snapshot(self, run_id: int | None, plan: Plan, taken_at: datetime) -> bool:
        """Store the plan if it differs from the newest snapshot; True when a snapshot was written."""
        body = plan.model_dump_json()
        digest = hashlib.sha256(body.encode()).hexdigest()

        def work(conn: Connection) -> bool:
            latest = conn.execute(select(plan_snapshots.c.digest)
                                  .order_by(plan_snapshots.c.taken_at.desc(), plan_snapshots.c.id.desc())
                                  .limit(1)).scalar_one_or_none()
            if latest == digest:
                return False
            conn.execute(plan_snapshots.insert().values(run_id=run_id, taken_at=as_utc(taken_at),
                                                        digest=digest, plan_json=body))
            return True
        return self._write(work)

    def plan_as_of(self, instant: datetime) -> Plan | None:
        query = (select(plan_snapshots.c.plan_json).where(plan_snapshots.c.taken_at <= as_utc(instant))
                 .order_by(plan_snapshots.c.taken_at.desc(), plan_snapshots.c.id.desc()).limit(1))
        body = self._read(lambda c: c.execute(query).scalar_one_or_none())
        return Plan.model_validate_json(body) if body else None

    # --- write journal --------------------------------------------------------------------------

    def journal_plan(self, run_id: int | None, changes: list[LabelChange]) -> list[int]:
        """Record changes as planned before any is sent; ids in the order of `changes`."""
        if not changes:
            return []
        now = clock.now()
        rows = [{"run_id": run_id, "tracker": ch.tracker, "item_id": ch.item_id, "key": ch.key,
                 "add_labels": dump_list(sorted(ch.add)), "remove_labels": dump_list(sorted(ch.remove)),
                 "reasons": dump_list([[r.code, r.text, r.milestone] if isinstance(r, LabelReason) else ["", str(r), None]
                                       for r in ch.reasons]), "state": "planned", "error": None,
                 "created": now, "updated": now} for ch in changes]

        def work(conn: Connection) -> list[int]:
            ids: list[int] = []
            stmt = write_journal.insert().returning(write_journal.c.id, sort_by_parameter_order=True)
            for part in bulk.chunks(rows):
                ids += conn.execute(stmt, list(part)).scalars().all()
            return ids
        return self._write(work)

    def journal_mark(self, entry_id: int, state: str, error: str | None = None) -> None:
        self._write(lambda conn: self._mark(conn, entry_id, state, error))

    def journal_confirm(self, entry_id: int, tracker: str, item_id: str, labels: tuple[str, ...],
                        observed_at: datetime, record: LabelRecord | None = None) -> None:
        """Mark a write confirmed, record the labels it put on the tracker and (with `record`) what the
        store now knows it confirmed there, in one transaction (one commit per write, the hot path)."""
        changes = {item_id: {"labels": dump_list(labels)}}

        def work(conn: Connection) -> None:
            self._mark(conn, entry_id, "confirmed", None)
            apply_row_changes(conn, tracker, changes, as_utc(observed_at))
            if record is not None:
                bulk.upsert(conn, label_records, [record_row(record, observed_at)], keys=("tracker", "item_id"))
        self._write(work)

    def _mark(self, conn: Connection, entry_id: int, state: str, error: str | None) -> None:
        if state not in JOURNAL_NEXT:
            raise ValueError(f"journal state must be one of {tuple(JOURNAL_NEXT)}, got {state!r}")
        current = conn.execute(select(write_journal.c.state).where(write_journal.c.id == entry_id)
                               ).scalar_one_or_none()
        if current is None:
            raise ValueError(f"no write-journal entry {entry_id}")
        if state not in JOURNAL_NEXT[current]:
            raise ValueError(f"write-journal entry {entry_id} is {current}; it cannot become {state}")
        conn.execute(update(write_journal).where(write_journal.c.id == entry_id).values(
            state=state, error=self._scrub(error)[:_MAX_ERROR] if error else None, updated=clock.now()))

    def journal_unfinished(self, tracker: str | None = None) -> list[JournalEntry]:
        """Entries planned or sent but never confirmed or failed (a crash mid-apply), oldest first."""
        query = select(write_journal).where(write_journal.c.state.in_(("planned", "sent")))
        if tracker is not None:
            query = query.where(write_journal.c.tracker == tracker)
        return self._journal_query(query)

    def journal(self, run_id: int | None = None) -> list[JournalEntry]:
        query = select(write_journal)
        if run_id is not None:
            query = query.where(write_journal.c.run_id == run_id)
        return self._journal_query(query)

    def journal_since(self, tracker: str, since) -> list[JournalEntry]:
        """Entries of `tracker` that went out (sent, confirmed, failed) at or after `since`: the writes a
        tracker's hourly write limits have already counted, across runs."""
        query = select(write_journal).where(write_journal.c.tracker == tracker,
                                            write_journal.c.state.in_(("sent", "confirmed", "failed")),
                                            write_journal.c.updated >= since)
        return self._journal_query(query)

    def _journal_query(self, query) -> list[JournalEntry]:
        query = query.order_by(write_journal.c.id)
        return self._read(lambda c: [_journal_entry(r) for r in c.execute(query).mappings()])

    # --- the lease ------------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl: float) -> bool:
        return self._write(lambda c: lease.acquire(c, name, holder, ttl))

    def renew_lease(self, name: str, holder: str, ttl: float) -> bool:
        return self._write(lambda c: lease.renew(c, name, holder, ttl))

    def release_lease(self, name: str, holder: str) -> None:
        self._write(lambda c: lease.release(c, name, holder))

    def lease_holder(self, name: str) -> tuple[str, datetime] | None:
        return self._read(lambda c: lease.holder_of(c, name))

    @contextmanager
    def lease(self, name: str, holder: str | None = None, ttl: float = 300) -> Iterator[lease.Lease]:
        """Hold `name` for the block, renewed every ttl/3; raises LeaseHeld if another holder has it."""
        holder = holder or lease.default_holder()
        if not self.acquire_lease(name, holder, ttl):
            raise LeaseHeld(lease.held_message(name, self.lease_holder(name)))
        held = lease.Lease(self, name, holder, ttl).start()
        log.debug("lease %r acquired by %s for %ss", name, holder, ttl)
        try:
            yield held
        finally:
            held.release()

    def _scrub(self, text: str) -> str:
        """Error text kept in the store: no store password, no NUL (PostgreSQL text refuses it)."""
        text = clean_text(text) or ""
        return text.replace(self._secret, "***") if self._secret else text


def _journal_entry(row: Any) -> JournalEntry:
    change = LabelChange(tracker=row["tracker"], item_id=row["item_id"], key=row["key"],
                         add=frozenset(load_tuple(row["add_labels"])),
                         remove=frozenset(load_tuple(row["remove_labels"])),
                         reasons=tuple(LabelReason(*r) if isinstance(r, list) else LabelReason("", str(r))
                                       for r in load_tuple(row["reasons"])))
    return JournalEntry(id=row["id"], run_id=row["run_id"], change=change, state=row["state"],
                        created=row["created"], updated=row["updated"], error=row["error"])


__all__ = ["Store", "SaveSummary", "ItemChange", "JournalEntry"]
