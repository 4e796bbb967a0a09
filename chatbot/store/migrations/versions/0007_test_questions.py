"""Test questions (#18): each bot's questions with the facts a right answer holds, for
`chatbot eval` and the console.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "test_questions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),  # the question as JSON, as in a JSONL file
        sa.Column("added_at", sa.Float, nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
    )
    op.create_index("test_questions_by_bot", "test_questions", ["bot", "id"])


def downgrade() -> None:
    op.drop_table("test_questions")
