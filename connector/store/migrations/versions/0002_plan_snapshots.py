"""Plan snapshots ("what did we declare last week") and an index for as-of queries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from connector.store.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("plan_json", sa.Text(), nullable=False),
    )
    op.create_index("ix_plan_snapshots_taken_at", "plan_snapshots", ["taken_at"])
    # items_as_of filters item_versions by valid_from first; without this it scans every version.
    op.create_index("ix_item_versions_asof", "item_versions", ["valid_from", "tracker"])


def downgrade() -> None:
    op.drop_index("ix_item_versions_asof", table_name="item_versions")
    op.drop_index("ix_plan_snapshots_taken_at", table_name="plan_snapshots")
    op.drop_table("plan_snapshots")
