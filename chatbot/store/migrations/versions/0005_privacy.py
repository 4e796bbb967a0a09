"""Privacy (#6): consents, keyed contact hashes, and the audit log chained by hashes.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chatbot.store.migrations import frozen

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
    # What was stored before masking existed is masked now, then the audit log is chained.
    mask_stored_text(op.get_bind())
    frozen.chain_existing_entries(op.get_bind())


def mask_stored_text(db: sa.Connection) -> None:
    mask = frozen.mask  # the rules as they stood, not today's
    for table, key, columns in (
        ("answers", "id", ("question", "answer", "guard_reason")),
        ("audit_log", "id", ("target", "detail")),
    ):
        rows = db.execute(sa.text(f"SELECT {key}, {', '.join(columns)} FROM {table}")).all()
        for row in rows:
            masked = {c: mask(v or "") for c, v in zip(columns, row[1:], strict=True)}
            if any(masked[c] != (v or "") for c, v in zip(columns, row[1:], strict=True)):
                sets = ", ".join(f"{c} = :{c}" for c in columns)
                db.execute(
                    sa.text(f"UPDATE {table} SET {sets} WHERE {key} = :key"),
                    {**masked, "key": row[0]},
                )


def downgrade() -> None:
    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash")
    op.drop_table("contact_keys")
    op.drop_table("consents")
