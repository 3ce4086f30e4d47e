"""Retention: a store_meta table (thinning watermark, pruned sync counts) and an index on valid_to so
items_as_of reads only the versions open at an instant, however long the history grows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_meta",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_index("ix_item_versions_valid_to", "item_versions", ["valid_to", "valid_from"])


def downgrade() -> None:
    op.drop_index("ix_item_versions_valid_to", table_name="item_versions")
    op.drop_table("store_meta")
