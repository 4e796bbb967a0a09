"""Privacy (#6): consents, keyed contact hashes, and the audit log chained by hashes.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("conversation_id", sa.String(32), primary_key=True),
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("notice_version", sa.String(16), nullable=False),
        sa.Column("keep", sa.Boolean, nullable=False),
    )
    op.create_index("consents_by_bot_time", "consents", ["bot", "at"])
    op.create_table(
        "contact_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("contact_keys_by_hash", "contact_keys", ["key_hash"])
    op.create_index("contact_keys_by_conversation", "contact_keys", ["conversation_id"])
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("hash", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last_id", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    # Entries written before the chain existed are chained now, in order.
    from chatbot.audit import chain_existing_entries

    chain_existing_entries(op.get_bind())


def downgrade() -> None:
    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash")
    op.drop_table("contact_keys")
    op.drop_table("consents")
