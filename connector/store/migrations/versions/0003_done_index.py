"""Index item_history by (field, new) so done_events finds status changes to done without a scan.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_item_history_field_new", "item_history", ["field", "new"])


def downgrade() -> None:
    op.drop_index("ix_item_history_field_new", table_name="item_history")
