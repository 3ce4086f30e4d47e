"""Queries over the past: items as of an instant (from item_versions), tracked-field changes, and the
moments items became done (for throughput).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, or_, select

from connector.model import Presence, Status, WorkItem
from connector.store.codec import item_from_row
from connector.store.records import ItemChange
from connector.store.tables import item_history, item_versions
from connector.store.types import as_utc


def items_as_of(conn: Connection, instant: datetime, tracker: str | None) -> list[WorkItem]:
    """Every item as it was stored at `instant`, among those present then."""
    v = item_versions.c
    query = select(item_versions).where(v.valid_from <= instant, or_(v.valid_to.is_(None), v.valid_to > instant),
                                        v.presence == str(Presence.PRESENT))
    if tracker is not None:
        query = query.where(v.tracker == tracker)
    query = query.order_by(v.tracker, v.item_id)
    return [item_from_row(r) for r in conn.execute(query).mappings()]


def changes(conn: Connection, since: datetime, until: datetime) -> list[ItemChange]:
    h = item_history.c
    query = (select(item_history).where(h.observed_at >= since, h.observed_at < until)
             .order_by(h.observed_at, h.id))
    return [ItemChange(tracker=r.tracker, item_id=r.item_id, key=r.key, field=r.field, old=r.old, new=r.new,
                       observed_at=r.observed_at, changed_at=r.changed_at) for r in conn.execute(query)]


def done_events(conn: Connection, since: datetime | None) -> list[tuple[str, str, datetime]]:
    """(tracker, item_id, resolved_at) each time an item's stored status turned done, oldest first.

    An item first seen already done counts too (its first-sighting status row), so throughput since
    the plan's start is known from the first sync. resolved_at is the tracker's resolution timestamp
    in the version that status change opened, or the item's `updated` where the tracker gave none.
    """
    # Two linear queries joined here: a SQL join on valid_from = observed_at lets planners pick the
    # valid_from index, where one sync's thousands of versions share a single instant (quadratic).
    h, v = item_history.c, item_versions.c
    became_done = conn.execute(select(h.tracker, h.item_id, h.observed_at)
                               .where(h.field == "status", h.new == str(Status.DONE))).all()
    if not became_done:
        return []
    done_versions = {(r.tracker, r.item_id, r.valid_from): r.resolved or r.updated for r in conn.execute(
        select(v.tracker, v.item_id, v.valid_from, v.resolved, v.updated).where(v.status == str(Status.DONE)))}
    events: set[tuple[str, str, datetime]] = set()
    for r in became_done:
        at = done_versions.get((r.tracker, r.item_id, r.observed_at))
        if at is None:
            continue  # its version was superseded within the same instant
        at = as_utc(at)
        if since is None or at >= since:
            events.add((r.tracker, r.item_id, at))
    return sorted(events, key=lambda e: (e[2], e[0], e[1]))
