"""Value objects the store hands out: changes from history, write-journal entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connector.values import LabelChange

JOURNAL_STATES = ("planned", "sent", "confirmed", "failed", "superseded")
# Which state may follow which; a resumed apply may re-send, and marking twice is harmless.
JOURNAL_NEXT = {
    "planned": {"planned", "sent", "confirmed", "failed", "superseded"},
    "sent": {"sent", "confirmed", "failed", "superseded"},
    "confirmed": {"confirmed"},
    "failed": {"failed"},
    "superseded": {"superseded"},
}
RUN_OUTCOMES = ("success", "partial", "failed", "skipped")


@dataclass(frozen=True)
class ItemChange:
    """One tracked field of one item changing, as the store observed it.

    A first sighting is recorded as field "status" with old None. Tuples (labels, assignees,
    milestones) are JSON lists as text; due is an ISO date; presence is a Presence value.
    """

    tracker: str
    item_id: str
    key: str
    field: str  # status|milestones|due|estimate|assignees|key|labels|presence
    old: str | None
    new: str | None
    observed_at: datetime  # when the store saw it (UTC)
    changed_at: datetime | None  # the item's `updated` as the tracker reported it, where known


@dataclass(frozen=True)
class JournalEntry:
    id: int
    run_id: int | None
    change: LabelChange
    state: str  # planned|sent|confirmed|failed|superseded
    created: datetime
    updated: datetime
    error: str | None = None
