"""The store's binding to one plan (`store_binding`: the namespace of the plan it serves).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from connector.store.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("store_binding",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("namespace", sa.String(), nullable=False),
                    sa.Column("bound_at", UTCDateTime(), nullable=False))


def downgrade() -> None:
    op.drop_table("store_binding")
