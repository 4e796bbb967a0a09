"""WhatsApp (#31): a bot's number on Meta's Cloud API, its customers by number, and every
message in and out (deduplicated by Meta's message id).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_channels",
        sa.Column("bot", sa.String(64), primary_key=True),
        sa.Column("phone_number_id", sa.String(64), nullable=False, unique=True),
        sa.Column("secrets", sa.LargeBinary, nullable=False),
        sa.Column("template", sa.String(512), nullable=False, server_default=""),
        sa.Column("problem", sa.Text, nullable=False, server_default=""),
        sa.Column("problem_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "whatsapp_customers",
        sa.Column("bot", sa.String(64), primary_key=True),
        sa.Column("number_key", sa.String(64), primary_key=True),
        sa.Column("number", sa.LargeBinary, nullable=False),
        sa.Column("conversation_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("language", sa.String(8), nullable=False, server_default="en"),
        sa.Column("last_inbound_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("notice_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("busy_until", sa.Float, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index(
        "whatsapp_customers_by_conversation", "whatsapp_customers", ["bot", "conversation_id"]
    )
    op.create_table(
        "whatsapp_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("number_key", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("wamid", sa.String(255)),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("body", sa.LargeBinary),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("claimed_until", sa.Float, nullable=False, server_default="0"),
        sa.Column("outcome", sa.Text, nullable=False, server_default=""),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index(
        "whatsapp_messages_once",
        "whatsapp_messages",
        ["bot", "direction", "wamid"],
        unique=True,
    )
    op.create_index(
        "whatsapp_messages_by_customer", "whatsapp_messages", ["bot", "number_key", "id"]
    )
    op.create_index("whatsapp_messages_due", "whatsapp_messages", ["state", "next_at"])


def downgrade() -> None:
    op.drop_table("whatsapp_messages")
    op.drop_table("whatsapp_customers")
    op.drop_table("whatsapp_channels")
