"""Staff per shop (#32): an account sees every bot (the firm's staff, as before) or only the
bots listed for it (a shop's staff).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("all_bots", sa.Boolean, nullable=False, server_default=sa.true())
        )
    op.create_table(
        "account_bots",
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("bot", sa.String(64), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("account_bots")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("all_bots")
