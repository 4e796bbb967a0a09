"""Shared short-lived state (#20) for several servers on one database without Redis: rate
limit events, leases of answer slots, and expiring values (the turns of live conversations).
UNLOGGED on PostgreSQL: lost in a crash, as a server's memory is, and not written twice.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "rate_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        prefixes=unlogged,
    )
    op.create_index("rate_events_by_key", "rate_events", ["key", "at"])
    op.create_table(
        "leases",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("token", sa.String(32), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
        prefixes=unlogged,
    )
    op.create_table(
        "short_lived",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        prefixes=unlogged,
    )
    op.create_index("short_lived_by_expiry", "short_lived", ["expires_at"])


def downgrade() -> None:
    op.drop_table("short_lived")
    op.drop_table("leases")
    op.drop_table("rate_events")
