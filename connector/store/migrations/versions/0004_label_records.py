"""label_records: what this store last confirmed on each item (labels, placement, prefix).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from connector.store.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "label_records",
        sa.Column("tracker", sa.String(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("placement", sa.Text(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("prefix", sa.String(), nullable=False),
        sa.Column("legacy", sa.Text(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tracker", "item_id"),
    )


def downgrade() -> None:
    op.drop_table("label_records")
