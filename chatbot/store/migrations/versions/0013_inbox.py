"""The inbox (#30): a conversation's state (with the bot, waiting for a person, with a person,
closed) and what the customer and staff said to each other outside the bot's answers.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_states",
        sa.Column("conversation_id", sa.String(32), primary_key=True),
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False, server_default=""),
        sa.Column("staff", sa.String(64)),
        sa.Column("misses", sa.Integer, nullable=False, server_default="0"),
        sa.Column("keep", sa.Boolean, nullable=False),
        sa.Column("since", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("conversation_states_by_bot", "conversation_states", ["bot", "state"])
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("inbox_messages_by_conversation", "inbox_messages", ["conversation_id", "id"])


def downgrade() -> None:
    op.drop_table("inbox_messages")
    op.drop_table("conversation_states")
