"""Conversations kept under a key, not under the customer's token (#28): the id a customer's
browser holds is their proof on the public chat API, and staff saw it in the console and could
read it in the database. Each stored id becomes its key (personal_data.conversation_key), so the
customer's token still opens their conversation and nothing staff can read does.

Entries of the audit log written before keep the ids they named: the log is chained by hashes,
and an entry rewritten would read as tampering (docs/SECURITY.md).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TABLES = ("consents", "answers", "contact_keys")


def _key(token: str) -> str:
    # personal_data.conversation_key as of this revision, frozen here: a later change there
    # must not change what this migration wrote.
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def upgrade() -> None:
    db = op.get_bind()
    for table in _TABLES:
        stored = db.execute(sa.text(f"SELECT DISTINCT conversation_id FROM {table}")).scalars()
        for token in list(stored):
            db.execute(
                sa.text(
                    f"UPDATE {table} SET conversation_id = :key WHERE conversation_id = :token"
                ),
                {"key": _key(token), "token": token},
            )


def downgrade() -> None:
    # A key cannot be turned back into the customer's token: the conversations stay under
    # their keys, readable by staff; a customer's browser then starts a new one.
    pass
