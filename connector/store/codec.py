"""WorkItem and Milestone to table rows and back, the content hash, and the history diff of two rows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from connector.model import Blocker, Milestone, Presence, Status, WorkItem
from connector.store.tables import ITEM_FIELDS
from connector.store.types import as_utc

TUPLE_FIELDS = ("assignees", "labels", "milestones", "links")
# Fields whose changes are kept in item_history, in the order they are recorded.
TRACKED_FIELDS = ("status", "milestones", "due", "estimate", "assignees", "key", "labels", "presence")
_HASHED = tuple(f for f in ITEM_FIELDS if f != "presence")  # presence changes are tracked on their own


_encode = json.JSONEncoder(ensure_ascii=False).encode
_STATUS = {str(s): s for s in Status}  # enum lookup by value is slow at 100,000 rows
_PRESENCE = {str(p): p for p in Presence}


def dump_list(values) -> str:
    return _encode(list(values)) if values else "[]"


def load_tuple(value: str | None) -> tuple[str, ...]:
    return tuple(json.loads(value)) if value and value != "[]" else ()


def clean_text(value: str | None) -> str | None:
    """Tracker text is untrusted: PostgreSQL text cannot hold NUL, and one such title must not fail
    every pull of its tracker forever, so NUL becomes U+FFFD on both engines."""
    if value is None or "\x00" not in value:
        return value
    return value.replace("\x00", "\ufffd")


def item_row(item: WorkItem) -> dict[str, Any]:
    """The items/item_versions columns for one WorkItem (without bookkeeping columns)."""
    row = {
        "tracker": item.tracker, "item_id": item.id, "key": clean_text(item.key),
        "container": clean_text(item.container), "url": clean_text(item.url), "title": clean_text(item.title),
        "type": clean_text(item.type), "status": str(item.status), "raw_status": clean_text(item.raw_status), "created": as_utc(item.created), "updated": as_utc(item.updated),
        "resolved": as_utc(item.resolved) if item.resolved else None,
        "assignees": dump_list(item.assignees), "labels": dump_list(item.labels),
        "milestones": dump_list(item.milestones), "sprint": clean_text(item.sprint), "epic": clean_text(item.epic),
        "parent": clean_text(item.parent), "due": item.due,
        "estimate": float(item.estimate) if item.estimate is not None else None,
        "links": dump_links(item.links, item.blocked_by), "is_pull_request": bool(item.is_pull_request),
        "presence": str(item.presence),
    }
    row["content_hash"] = content_hash(row)
    return row


def content_hash(row: Mapping[str, Any]) -> str:
    """Cheap change detection: equal hashes mean no stored field but presence differs.

    Datetimes in rows are already aware UTC (item_row, UTCDateTime), so their repr is canonical.
    """
    text = repr(tuple(row[f] for f in _HASHED))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def item_from_row(row: Mapping[str, Any]) -> WorkItem:
    return WorkItem(
        tracker=row["tracker"], id=row["item_id"], key=row["key"], container=row["container"],
        url=row["url"], title=row["title"], type=row["type"], status=_STATUS[row["status"]],
        raw_status=row["raw_status"], created=as_utc(row["created"]), updated=as_utc(row["updated"]),
        resolved=as_utc(row["resolved"]) if row["resolved"] else None,
        assignees=load_tuple(row["assignees"]), labels=load_tuple(row["labels"]),
        milestones=load_tuple(row["milestones"]), sprint=row["sprint"], epic=row["epic"],
        parent=row["parent"], due=row["due"], estimate=row["estimate"], links=_links(row["links"]),
        is_pull_request=bool(row["is_pull_request"]), presence=_PRESENCE[row["presence"]],
        blocked_by=load_blockers(row["links"]),
    )


# Blockers share the `links` column (both are references an item makes to others): its JSON list holds the
# link strings, then one {"blocked_by": [[id, key, open], ...]} object when the item has blockers. Rows
# stored before hold strings only, so no migration and no new hash for items without blockers.
def dump_links(links, blockers) -> str:
    if not blockers:
        return dump_list(links)
    return _encode([*links, {"blocked_by": [[b.id, clean_text(b.key), b.open] for b in blockers]}])


def _links(value: str | None) -> tuple[str, ...]:
    if not value or value == "[]":
        return ()
    if "blocked_by" not in value:
        return tuple(json.loads(value))
    return tuple(v for v in json.loads(value) if isinstance(v, str))


def load_blockers(value: str | None) -> tuple[Blocker, ...]:
    if not value or "blocked_by" not in value:
        return ()
    for entry in json.loads(value):
        if isinstance(entry, dict):
            return tuple(Blocker(str(i), str(k), bool(o)) for i, k, o in entry.get("blocked_by") or ())
    return ()


def history_text(value: Any) -> str | None:
    """How a tracked value is written in item_history.old/new (tuples stay JSON lists)."""
    if value is None:
        return None
    if isinstance(value, date):  # datetime is a date too, but only `due` (a date) is tracked
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def history_rows(old: Mapping[str, Any] | None, new: Mapping[str, Any],
                 observed_at: datetime, changed_at: datetime | None) -> list[dict[str, Any]]:
    """item_history rows for the tracked fields that differ; a first sighting records its status."""
    base = {"tracker": new["tracker"], "item_id": new["item_id"], "key": new["key"],
            "observed_at": observed_at, "changed_at": changed_at}
    if old is None:
        return [{**base, "field": "status", "old": None, "new": new["status"]}]
    rows = []
    for name in TRACKED_FIELDS:
        before, after = history_text(old[name]), history_text(new[name])
        if before != after:
            rows.append({**base, "field": name, "old": before, "new": after})
    return rows


def milestone_row(milestone: Milestone, observed_at: datetime) -> dict[str, Any]:
    return {"tracker": milestone.tracker, "milestone_id": milestone.id, "kind": milestone.kind,
            "name": clean_text(milestone.name), "container": clean_text(milestone.container),
            "state": clean_text(milestone.state), "due": milestone.due, "start": milestone.start,
            "url": clean_text(milestone.url), "last_seen": observed_at}


def milestone_from_row(row: Mapping[str, Any]) -> Milestone:
    return Milestone(tracker=row["tracker"], id=row["milestone_id"], kind=row["kind"], name=row["name"],
                     container=row["container"], state=row["state"], due=row["due"], start=row["start"],
                     url=row["url"])
