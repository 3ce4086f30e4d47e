"""The store's tables (SQLModel), the schema Alembic's head migration must produce.

Bulk work goes through SQLAlchemy Core on `Model.__table__`; the classes document the columns.
Tuples are JSON text; timestamps are `UTCDateTime` (aware UTC on both engines).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, String, Text
from sqlmodel import Field, SQLModel

from connector.store.types import UTCDateTime

metadata = SQLModel.metadata


class Run(SQLModel, table=True):
    __tablename__ = "runs"

    id: int | None = Field(default=None, primary_key=True)
    command: str = Field(sa_type=String)
    trackers: str = Field(sa_type=Text, default="[]")  # JSON list
    started: datetime = Field(sa_type=UTCDateTime)
    finished: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, sa_type=String)  # success|partial|failed|skipped
    counts: str = Field(sa_type=Text, default="{}")  # JSON {tracker: {...}}
    requests: str = Field(sa_type=Text, default="{}")  # JSON {tracker: RequestStats.as_dict()}
    error: str | None = Field(default=None, sa_type=Text)


class TrackerSync(SQLModel, table=True):
    """One tracker's pull within one run: its success drives freshness and the census cadence."""

    __tablename__ = "tracker_syncs"
    __table_args__ = (Index("ix_tracker_syncs_tracker_ok", "tracker", "ok"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runs.id", index=True)
    tracker: str = Field(sa_type=String)
    ok: bool
    census: bool = False
    requests: str = Field(sa_type=Text, default="{}")
    synced_at: datetime = Field(sa_type=UTCDateTime)


class CursorRow(SQLModel, table=True):
    __tablename__ = "cursors"

    tracker: str = Field(sa_type=String, primary_key=True)
    scope_id: str = Field(sa_type=String, primary_key=True)
    updated: datetime | None = Field(default=None, sa_type=UTCDateTime)
    etag: str | None = Field(default=None, sa_type=String)
    extra: str = Field(sa_type=Text, default="{}")
    saved_at: datetime = Field(sa_type=UTCDateTime)


class ItemFields(SQLModel):
    """Every WorkItem field, shared by the current-state table and the version table."""

    key: str = Field(sa_type=String)
    container: str = Field(sa_type=String)
    url: str = Field(sa_type=Text)
    title: str = Field(sa_type=Text)
    type: str = Field(sa_type=String)
    status: str = Field(sa_type=String)
    raw_status: str = Field(sa_type=String)
    created: datetime = Field(sa_type=UTCDateTime)
    updated: datetime = Field(sa_type=UTCDateTime)
    resolved: datetime | None = Field(default=None, sa_type=UTCDateTime)
    assignees: str = Field(sa_type=Text, default="[]")
    labels: str = Field(sa_type=Text, default="[]")
    milestones: str = Field(sa_type=Text, default="[]")
    sprint: str | None = Field(default=None, sa_type=String)
    epic: str | None = Field(default=None, sa_type=String)
    parent: str | None = Field(default=None, sa_type=String)
    due: date | None = None
    estimate: float | None = None
    links: str = Field(sa_type=Text, default="[]")
    is_pull_request: bool = False
    presence: str = Field(sa_type=String, default="present")


class ItemRow(ItemFields, table=True):
    """Current state, keyed by tracker + the vendor's immutable id."""

    __tablename__ = "items"

    tracker: str = Field(sa_type=String, primary_key=True)
    item_id: str = Field(sa_type=String, primary_key=True)
    content_hash: str = Field(sa_type=String)
    first_seen: datetime = Field(sa_type=UTCDateTime)
    last_seen: datetime = Field(sa_type=UTCDateTime)  # the last pull that changed this row (unchanged: no write)


class ItemVersion(ItemFields, table=True):
    """Each state an item had, valid over [valid_from, valid_to): makes "as of" queries exact."""

    __tablename__ = "item_versions"
    __table_args__ = (
        Index("ix_item_versions_item", "tracker", "item_id", "valid_to"),
        Index("ix_item_versions_asof", "valid_from", "tracker"),  # migration 0002
        Index("ix_item_versions_valid_to", "valid_to", "valid_from"),  # migration 0004: items_as_of
    )

    id: int | None = Field(default=None, primary_key=True)
    tracker: str = Field(sa_type=String)
    item_id: str = Field(sa_type=String)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_to: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ItemHistory(SQLModel, table=True):
    __tablename__ = "item_history"
    __table_args__ = (
        Index("ix_item_history_item", "tracker", "item_id"),
        Index("ix_item_history_field_new", "field", "new"),  # migration 0003: done_events
    )

    id: int | None = Field(default=None, primary_key=True)
    tracker: str = Field(sa_type=String)
    item_id: str = Field(sa_type=String)
    key: str = Field(sa_type=String)
    field: str = Field(sa_type=String)
    old: str | None = Field(default=None, sa_type=Text)
    new: str | None = Field(default=None, sa_type=Text)
    observed_at: datetime = Field(sa_type=UTCDateTime, index=True)
    changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ScopeMember(SQLModel, table=True):
    __tablename__ = "scope_members"
    __table_args__ = (Index("ix_scope_members_item", "tracker", "item_id"),)

    scope_id: str = Field(sa_type=String, primary_key=True)
    tracker: str = Field(sa_type=String, primary_key=True)
    item_id: str = Field(sa_type=String, primary_key=True)


class MilestoneRow(SQLModel, table=True):
    __tablename__ = "milestones"

    tracker: str = Field(sa_type=String, primary_key=True)
    milestone_id: str = Field(sa_type=String, primary_key=True)
    kind: str = Field(sa_type=String)
    name: str = Field(sa_type=String)
    container: str = Field(sa_type=String)
    state: str = Field(sa_type=String)
    due: date | None = None
    start: date | None = None
    url: str = Field(sa_type=Text, default="")
    last_seen: datetime = Field(sa_type=UTCDateTime)


class JournalRow(SQLModel, table=True):
    __tablename__ = "write_journal"
    __table_args__ = (Index("ix_write_journal_state", "state", "tracker"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, index=True)
    tracker: str = Field(sa_type=String)
    item_id: str = Field(sa_type=String)
    key: str = Field(sa_type=String)
    add_labels: str = Field(sa_type=Text, default="[]")
    remove_labels: str = Field(sa_type=Text, default="[]")
    reasons: str = Field(sa_type=Text, default="[]")
    state: str = Field(sa_type=String)  # planned|sent|confirmed|failed|superseded
    error: str | None = Field(default=None, sa_type=Text)
    created: datetime = Field(sa_type=UTCDateTime)
    updated: datetime = Field(sa_type=UTCDateTime)


class LeaseRow(SQLModel, table=True):
    __tablename__ = "leases"

    name: str = Field(sa_type=String, primary_key=True)
    holder: str = Field(sa_type=String)
    acquired_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class PlanSnapshot(SQLModel, table=True):
    """Added by migration 0002: the declared plan as it was, stored when it changes."""

    __tablename__ = "plan_snapshots"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None)
    taken_at: datetime = Field(sa_type=UTCDateTime, index=True)
    digest: str = Field(sa_type=String)
    plan_json: str = Field(sa_type=Text)


class LabelRecordRow(SQLModel, table=True):
    """Added by migration 0004: per item, the owned labels this store last confirmed on the tracker
    (written, or adopted on a tracker's first apply), where the item stood in the plan then, and the
    prefix in force; the safety threshold tells news from surprises by it."""

    __tablename__ = "label_records"

    tracker: str = Field(sa_type=String, primary_key=True)
    item_id: str = Field(sa_type=String, primary_key=True)
    labels: str = Field(sa_type=Text, default="[]")  # JSON list, sorted
    placement: str = Field(sa_type=Text, default="[]")  # JSON list: milestone keys, ["(watch)"], or []
    is_open: bool = True
    prefix: str = Field(sa_type=String)
    legacy: str = Field(sa_type=Text, default="[]")  # JSON list: labels written under an earlier prefix, left
    confirmed_at: datetime = Field(sa_type=UTCDateTime)


class StoreMeta(SQLModel, table=True):
    """Added by migration 0006: small facts about the store itself (retention watermarks, pruned counts)."""

    __tablename__ = "store_meta"

    key: str = Field(sa_type=String, primary_key=True)
    value: str = Field(sa_type=Text)


runs = Run.__table__
tracker_syncs = TrackerSync.__table__
cursors = CursorRow.__table__
items = ItemRow.__table__
item_versions = ItemVersion.__table__
item_history = ItemHistory.__table__
scope_members = ScopeMember.__table__
milestones = MilestoneRow.__table__
write_journal = JournalRow.__table__
leases = LeaseRow.__table__
plan_snapshots = PlanSnapshot.__table__
label_records = LabelRecordRow.__table__
store_meta = StoreMeta.__table__

ITEM_FIELDS = tuple(ItemFields.model_fields)  # the columns items and item_versions share


class StoreBinding(SQLModel, table=True):
    """Added by migration 0005: the one plan a store serves (its namespace), so a second plan
    pointed at the same store is refused instead of treating the first plan's items as out of scope."""

    __tablename__ = "store_binding"

    id: int = Field(default=1, primary_key=True)  # one row
    namespace: str = Field(sa_type=String)
    bound_at: datetime = Field(sa_type=UTCDateTime)


store_binding = StoreBinding.__table__
