"""Queries over the past: items as of an instant (from item_versions), tracked-field changes, and the
moments items became done (for throughput).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Select, select

from connector.model import Presence, Status, WorkItem
from connector.store.codec import item_from_row
from connector.store.records import ItemChange
from connector.store.tables import item_history, item_versions
from connector.store.types import as_utc


def as_of_queries(instant: datetime, tracker: str | None = None) -> list[Select]:
    """The versions open at `instant`: two index range scans on valid_to (still-open versions, and those
    closed after the instant) rather than a filter on valid_from, which for a recent instant matches
    every version ever stored. So a report for last week reads about one row per item, whatever the
    history's length (tests/store/test_query_plans.py shows PostgreSQL's plans)."""
    v = item_versions.c
    branches = [select(item_versions).where(v.valid_to.is_(None), v.valid_from <= instant),
                select(item_versions).where(v.valid_to > instant, v.valid_from <= instant)]
    branches = [q.where(v.presence == str(Presence.PRESENT)) for q in branches]
    return [q.where(v.tracker == tracker) for q in branches] if tracker is not None else branches


def items_as_of(conn: Connection, instant: datetime, tracker: str | None) -> list[WorkItem]:
    """Every item as it was stored at `instant`, among those present then."""
    rows = [r for query in as_of_queries(instant, tracker) for r in conn.execute(query).mappings()]
    rows.sort(key=lambda r: (r["tracker"], r["item_id"]))
    return [item_from_row(r) for r in rows]


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
    done_versions: dict[tuple[str, str, datetime], datetime] = {}
    spans: dict[tuple[str, str], list[tuple[datetime, datetime | None, datetime]]] = {}
    for r in conn.execute(select(v.tracker, v.item_id, v.valid_from, v.valid_to, v.resolved, v.updated)
                          .where(v.status == str(Status.DONE))):
        done_versions[(r.tracker, r.item_id, r.valid_from)] = r.resolved or r.updated
        spans.setdefault((r.tracker, r.item_id), []).append((r.valid_from, r.valid_to, r.resolved or r.updated))
    events: set[tuple[str, str, datetime]] = set()
    for r in became_done:
        at = done_versions.get((r.tracker, r.item_id, r.observed_at))
        if at is None:
            # Beyond the retention window versions are thinned to one per day, so the version this
            # change opened may now start earlier that day: the done version covering it stands in.
            at = next((a for start, end, a in spans.get((r.tracker, r.item_id), ())
                       if start < r.observed_at and (end is None or end > r.observed_at)), None)
        if at is None:
            continue  # its version was superseded within the same instant (or the same thinned day)
        at = as_utc(at)
        if since is None or at >= since:
            events.add((r.tracker, r.item_id, at))
    return sorted(events, key=lambda e: (e[2], e[0], e[1]))
