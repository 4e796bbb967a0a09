"""Customers' ratings of answers (thumbs up or down).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as table:
        table.add_column(sa.Column("rating", sa.SmallInteger, nullable=True))  # 1 up, -1 down
        table.add_column(sa.Column("rated_at", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answers") as table:
        table.drop_column("rated_at")
        table.drop_column("rating")
