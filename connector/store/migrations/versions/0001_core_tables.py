"""Core tables: runs, tracker syncs, cursors, items with versions and history, scope members,
milestones, the write journal and leases.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from connector.store.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _item_columns() -> list[sa.Column]:
    """The WorkItem columns shared by `items` and `item_versions` (a fresh list per table)."""
    return [
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("container", sa.String(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("raw_status", sa.String(), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.Column("resolved", UTCDateTime(), nullable=True),
        sa.Column("assignees", sa.Text(), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("milestones", sa.Text(), nullable=False),
        sa.Column("sprint", sa.String(), nullable=True),
        sa.Column("epic", sa.String(), nullable=True),
        sa.Column("parent", sa.String(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("links", sa.Text(), nullable=False),
        sa.Column("is_pull_request", sa.Boolean(), nullable=False),
        sa.Column("presence", sa.String(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("command", sa.String(), nullable=False),
        sa.Column("trackers", sa.Text(), nullable=False),
        sa.Column("started", UTCDateTime(), nullable=False),
        sa.Column("finished", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("requests", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_table(
        "tracker_syncs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("tracker", sa.String(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("census", sa.Boolean(), nullable=False),
        sa.Column("requests", sa.Text(), nullable=False),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_tracker_syncs_run_id", "tracker_syncs", ["run_id"])
    op.create_index("ix_tracker_syncs_tracker_ok", "tracker_syncs", ["tracker", "ok"])
    op.create_table(
        "cursors",
        sa.Column("tracker", sa.String(), primary_key=True),
        sa.Column("scope_id", sa.String(), primary_key=True),
        sa.Column("updated", UTCDateTime(), nullable=True),
        sa.Column("etag", sa.String(), nullable=True),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.Column("saved_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "items",
        *_item_columns(),
        sa.Column("tracker", sa.String(), primary_key=True),
        sa.Column("item_id", sa.String(), primary_key=True),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "item_versions",
        *_item_columns(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tracker", sa.String(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_to", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_item_versions_item", "item_versions", ["tracker", "item_id", "valid_to"])
    op.create_table(
        "item_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tracker", sa.String(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("observed_at", UTCDateTime(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_item_history_item", "item_history", ["tracker", "item_id"])
    op.create_index("ix_item_history_observed_at", "item_history", ["observed_at"])
    op.create_table(
        "scope_members",
        sa.Column("scope_id", sa.String(), primary_key=True),
        sa.Column("tracker", sa.String(), primary_key=True),
        sa.Column("item_id", sa.String(), primary_key=True),
    )
    op.create_index("ix_scope_members_item", "scope_members", ["tracker", "item_id"])
    op.create_table(
        "milestones",
        sa.Column("tracker", sa.String(), primary_key=True),
        sa.Column("milestone_id", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("container", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "write_journal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("tracker", sa.String(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("add_labels", sa.Text(), nullable=False),
        sa.Column("remove_labels", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_write_journal_run_id", "write_journal", ["run_id"])
    op.create_index("ix_write_journal_state", "write_journal", ["state", "tracker"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("leases", "write_journal", "milestones", "scope_members", "item_history",
                  "item_versions", "items", "cursors", "tracker_syncs", "runs"):
        op.drop_table(table)
