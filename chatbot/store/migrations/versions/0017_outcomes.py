"""Outcomes (#32): what became of each conversation (questions answered, a person asked for,
thanks, ratings), as counts and flags with no words of the customer's.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_outcomes",
        sa.Column("conversation_id", sa.String(32), primary_key=True),
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("last_at", sa.Float, nullable=False),
        sa.Column("questions", sa.Integer, nullable=False, server_default="0"),
        sa.Column("answered", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_answered", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("person", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("thanked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("rating", sa.SmallInteger),
        sa.Column("csat", sa.SmallInteger),
    )
    op.create_index("conversation_outcomes_by_bot", "conversation_outcomes", ["bot", "started_at"])


def downgrade() -> None:
    op.drop_table("conversation_outcomes")
