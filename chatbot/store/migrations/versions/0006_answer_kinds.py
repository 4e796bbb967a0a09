"""Answer kinds (#16): what the customer was given, a model's answer, an extract, a pinned
answer or a fallback, so that the review, Gaps and charts can tell them apart.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default=""))
    # Answers kept before: told by what was stored with them.
    op.execute("UPDATE answers SET kind = 'pinned' WHERE model = 'pinned'")
    op.execute(
        "UPDATE answers SET kind = 'model' WHERE kind = '' AND answered AND model IS NOT NULL"
    )
    op.execute("UPDATE answers SET kind = 'extract' WHERE kind = '' AND answered")
    op.execute("UPDATE answers SET kind = 'fallback' WHERE kind = ''")


def downgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("kind")
