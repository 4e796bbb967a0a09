"""Ingestion as jobs (#20): uploads and website reads a worker does, their progress, and the
uploaded files until each is ingested.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(2048), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("mask_personal_data", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("progress", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ingest_jobs_by_bot", "ingest_jobs", ["bot", "id"])
    op.create_table(
        "ingest_job_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "job_id",
            sa.Integer,
            sa.ForeignKey("ingest_jobs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary),
        sa.Column("outcome", sa.String(16)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False),
    )
    op.create_index("ingest_job_files_by_job", "ingest_job_files", ["job_id", "id"])


def downgrade() -> None:
    op.drop_table("ingest_job_files")
    op.drop_table("ingest_jobs")
