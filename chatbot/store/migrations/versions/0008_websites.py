"""Websites (#19): the sites each bot reads, when each was last read and what changed, and each
page's validators (ETag, Last-Modified) for the next read.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "websites",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("bot", sa.String(64), nullable=False),
        sa.Column("root", sa.String(2048), nullable=False),
        sa.Column("added_at", sa.Float, nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("every_hours", sa.Float, nullable=False),
        sa.Column("last_read_at", sa.Float),
        sa.Column("last_report", sa.Text),
    )
    op.create_index("websites_by_bot", "websites", ["bot", "root"], unique=True)
    op.create_table(
        "website_pages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "site_id",
            sa.Integer,
            sa.ForeignKey("websites.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("etag", sa.String(512)),
        sa.Column("last_modified", sa.String(128)),
    )
    op.create_index("website_pages_by_site", "website_pages", ["site_id", "url"], unique=True)


def downgrade() -> None:
    op.drop_table("website_pages")
    op.drop_table("websites")
