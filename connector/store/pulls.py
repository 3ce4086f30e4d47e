"""Storing one tracker's PullResult in one transaction: items, versions, history, presence, scope
membership, cursors and milestones, in bulk.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, select, update

from connector.model import Cursor, Presence, WorkItem
from connector.store import bulk
from connector.store.codec import content_hash, history_rows, item_row, milestone_row
from connector.store.tables import (
    ITEM_FIELDS,
    cursors,
    item_history,
    item_versions,
    items,
    milestones,
    scope_members,
)
from connector.store.types import as_utc
from connector.values import PullResult

log = logging.getLogger(__name__)

_VERSION_COLUMNS = ("tracker", "item_id", *ITEM_FIELDS)


@dataclass(frozen=True)
class SaveSummary:
    inserted: int  # items never stored before
    changed: int  # items whose stored fields (or presence) changed
    unchanged: int
    gone: int  # items newly marked deleted, moved or hidden


def load_cursors(conn: Connection, tracker: str) -> dict[str, Cursor]:
    rows = conn.execute(select(cursors).where(cursors.c.tracker == tracker)).mappings()
    return {r["scope_id"]: Cursor(tracker=tracker, scope_id=r["scope_id"], updated=r["updated"],
                                  etag=r["etag"], extra=json.loads(r["extra"] or "{}")) for r in rows}


def save_pull(conn: Connection, result: PullResult, observed_at: datetime) -> SaveSummary:
    tracker, observed_at = result.tracker, as_utc(observed_at)
    pulled = result.all_items()
    for item in pulled.values():
        if item.tracker != tracker:
            raise ValueError(f"item {item.key} belongs to tracker {item.tracker!r}, not {tracker!r}")
    previous_cursors = load_cursors(conn, tracker)
    existing = _load_existing(conn, tracker, None if result.census else [*pulled, *(g.id for g in result.gone)])

    new_rows, changed_rows, unchanged_ids = [], [], []
    stale_but_visible: dict[str, dict[str, Any]] = {}
    for item_id, item in pulled.items():
        before = existing.get(item_id)
        if before is not None and as_utc(item.updated) < before[2]:
            # A lagging search index can return an older copy than we hold; never step back in time.
            unchanged_ids.append(item_id)
            if before[1] != Presence.PRESENT:
                stale_but_visible[item_id] = {"presence": str(Presence.PRESENT)}
            continue
        row = item_row(item)
        row["presence"] = str(Presence.PRESENT)  # returned by a query: visible, whatever the census said
        if before is None:
            new_rows.append(row)
        elif before[:2] != (row["content_hash"], row["presence"]):
            changed_rows.append(row)
        else:
            unchanged_ids.append(item_id)
    old_rows = _load_rows(conn, tracker, [r["item_id"] for r in changed_rows])
    history: list[dict[str, Any]] = []
    for row in new_rows + changed_rows:
        history += history_rows(old_rows.get(row["item_id"]), row, observed_at, row["updated"])
    for row in new_rows + changed_rows:
        row["first_seen"] = row["last_seen"] = observed_at
    # Unchanged items are not written at all (not even last_seen): a cron pull every few minutes must
    # not rewrite 50,000 rows and leave as many dead tuples behind each time.
    bulk.upsert(conn, items, new_rows + changed_rows, keys=("tracker", "item_id"), keep=("first_seen",))
    _new_versions(conn, tracker, new_rows + changed_rows, observed_at, close=[r["item_id"] for r in changed_rows])
    bulk.insert(conn, item_history, history)
    apply_row_changes(conn, tracker, stale_but_visible, observed_at)

    gone = _mark_presence(conn, result, pulled, existing, observed_at)
    _update_membership(conn, result, pulled, previous_cursors)
    bulk.upsert(conn, cursors, [_cursor_row(scope.cursor, tracker, observed_at) for scope in result.scopes],
                keys=("tracker", "scope_id"))
    bulk.upsert(conn, milestones, [milestone_row(m, observed_at) for m in result.milestones],
                keys=("tracker", "milestone_id"))
    summary = SaveSummary(inserted=len(new_rows), changed=len(changed_rows), unchanged=len(unchanged_ids),
                          gone=gone)
    log.info("stored %s pull: %s", tracker, summary)
    return summary


def _load_existing(conn: Connection, tracker: str, ids: list[str] | None) -> dict[str, tuple[str, str, datetime]]:
    """(content_hash, presence, updated) of the stored items among `ids`, or of all (a census needs all).

    An incremental pull reads only the rows it touches, so a ten-minute run costs the same in year
    three as in week one, however many items the organisation has accumulated.
    """
    c = items.c
    query = select(c.item_id, c.content_hash, c.presence, c.updated).where(c.tracker == tracker)
    if ids is None:
        return {r.item_id: (r.content_hash, r.presence, r.updated) for r in conn.execute(query)}
    out: dict[str, tuple[str, str, datetime]] = {}
    for part in bulk.chunks(list(dict.fromkeys(ids))):
        out.update({r.item_id: (r.content_hash, r.presence, r.updated)
                    for r in conn.execute(query.where(c.item_id.in_(part)))})
    return out


def _load_rows(conn: Connection, tracker: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for part in bulk.chunks(ids):
        for row in conn.execute(select(items).where(items.c.tracker == tracker, items.c.item_id.in_(part))).mappings():
            out[row["item_id"]] = dict(row)
    return out


def _new_versions(conn: Connection, tracker: str, rows: list[dict[str, Any]], observed_at: datetime,
                  close: list[str]) -> None:
    """Close the open version of each item in `close` and open a version for each row."""
    for part in bulk.chunks(close):
        conn.execute(update(item_versions)
                     .where(item_versions.c.tracker == tracker, item_versions.c.item_id.in_(part),
                            item_versions.c.valid_to.is_(None))
                     .values(valid_to=observed_at))
    versions = [{**{c: row[c] for c in _VERSION_COLUMNS}, "valid_from": observed_at, "valid_to": None}
                for row in rows]
    bulk.insert(conn, item_versions, versions)


def apply_row_changes(conn: Connection, tracker: str, updates: dict[str, dict[str, Any]],
                      observed_at: datetime, changed_at: datetime | None = None) -> int:
    """Set some columns of stored items (presence, key, labels), with history and a new version.

    `updates` maps item_id to the new column values; items not stored, or already so, are skipped.
    Returns how many items changed.
    """
    current = _load_rows(conn, tracker, list(updates))
    rows, history = [], []
    for item_id, values in updates.items():
        old = current.get(item_id)
        if old is None or all(old[k] == v for k, v in values.items()):
            continue
        new = {**old, **values}
        new["content_hash"] = content_hash(new)
        history += history_rows(old, new, observed_at, changed_at)
        rows.append(new)
    if not rows:
        return 0
    columns = sorted({k for v in updates.values() for k in v} | {"content_hash"})
    stmt = (update(items).where(items.c.tracker == bindparam("b_tracker"), items.c.item_id == bindparam("b_item_id"))
            .values({c: bindparam(f"b_{c}") for c in columns}))
    conn.execute(stmt, [{"b_tracker": tracker, "b_item_id": row["item_id"], **{f"b_{c}": row[c] for c in columns}}
                        for row in rows])
    _new_versions(conn, tracker, rows, observed_at, close=[r["item_id"] for r in rows])
    bulk.insert(conn, item_history, history)
    return len(rows)


def _mark_presence(conn: Connection, result: PullResult, pulled: dict[str, WorkItem],
                   existing: dict[str, tuple[str, str, datetime]], observed_at: datetime) -> int:
    """Census results: gone items get their presence, unseen present items become hidden."""
    updates: dict[str, dict[str, Any]] = {}
    for gone in result.gone:
        if gone.id in pulled or gone.id not in existing:
            continue  # a query returned it after all, or we never stored it
        values: dict[str, Any] = {"presence": str(gone.presence)}
        if gone.presence is Presence.MOVED and gone.new_key:
            values["key"] = gone.new_key
        updates[gone.id] = values
    if result.census:
        gone_ids = {g.id for g in result.gone}
        for item_id, (_hash, presence, _updated) in existing.items():
            if item_id in pulled or item_id in gone_ids:
                continue
            if item_id in result.seen_ids:
                if presence != Presence.PRESENT:
                    updates[item_id] = {"presence": str(Presence.PRESENT)}
            elif presence == Presence.PRESENT:
                updates[item_id] = {"presence": str(Presence.HIDDEN)}
    now_absent = [i for i, v in updates.items() if v["presence"] != Presence.PRESENT
                  and existing[i][1] == Presence.PRESENT]
    apply_row_changes(conn, result.tracker, updates, observed_at)
    absent = [i for i, v in updates.items() if v["presence"] != Presence.PRESENT]
    for part in bulk.chunks(absent):  # what no longer exists belongs to no scope
        conn.execute(delete(scope_members).where(scope_members.c.tracker == result.tracker,
                                                 scope_members.c.item_id.in_(part)))
    return len(now_absent)


def _update_membership(conn: Connection, result: PullResult, pulled: dict[str, WorkItem],
                       previous_cursors: dict[str, Cursor]) -> None:
    tracker = result.tracker
    returned = {scope.scope_id: {item.id for item in scope.items} for scope in result.scopes}
    all_returned = set(pulled)
    for scope in result.scopes:
        ids = returned[scope.scope_id]
        where_scope = and_(scope_members.c.scope_id == scope.scope_id, scope_members.c.tracker == tracker)
        if scope.complete:
            current = set(conn.execute(select(scope_members.c.item_id).where(where_scope)).scalars())
        else:  # only the members this pull can add or remove (not the whole scope, every ten minutes)
            current = set()
            for part in bulk.chunks(sorted(all_returned)):
                current.update(conn.execute(select(scope_members.c.item_id)
                                            .where(where_scope, scope_members.c.item_id.in_(part))).scalars())
        if scope.complete:
            left = sorted(current - ids)
        else:
            # An item this pull returned for another scope changed; had it still matched this scope,
            # this scope's query (from its previous cursor) would have returned it too.
            cutoff = previous_cursors.get(scope.scope_id)
            cutoff_at = as_utc(cutoff.updated) if cutoff and cutoff.updated else None
            left = sorted(i for i in (all_returned - ids) & current
                          if cutoff_at is None or as_utc(pulled[i].updated) >= cutoff_at)
        for part in bulk.chunks(left):
            conn.execute(delete(scope_members).where(where_scope, scope_members.c.item_id.in_(part)))
        bulk.insert(conn, scope_members, [{"scope_id": scope.scope_id, "tracker": tracker, "item_id": i}
                                          for i in sorted(ids - current)])


def _cursor_row(cursor: Cursor, tracker: str, observed_at: datetime) -> dict[str, Any]:
    return {"tracker": tracker, "scope_id": cursor.scope_id,
            "updated": as_utc(cursor.updated) if cursor.updated else None, "etag": cursor.etag,
            "extra": json.dumps(cursor.extra or {}, default=str), "saved_at": observed_at}
