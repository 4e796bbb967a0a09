"""Customers' personal data in the application database: consents, the contacts they gave, and
their conversations (the answers table, and what they and staff said in the inbox) found,
exported, erased, and purged when the bot's retention period is over.

Deleting is not enough on disk: SQLite keeps deleted rows in free pages and the write-ahead log
until they are overwritten. The database runs with secure_delete (store/database.py), which
zeroes what is deleted, and every erasure or purge ends with scrub(), which checkpoints the log
and truncates it, so no copy of what was erased is left in the data directory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CompoundSelect, Engine, Select, and_, delete, func, insert, select, text

from chatbot.privacy.masking import contact_keys, normalise_contact
from chatbot.store.schema import (
    answers,
    consents,
    conversation_outcomes,
    conversation_states,
    deliveries,
    inbox_messages,
    leads,
    whatsapp_customers,
    whatsapp_messages,
)
from chatbot.store.schema import contact_keys as contacts

log = logging.getLogger(__name__)

# Every table that holds something of one conversation, by (bot, conversation_id).
_PER_CONVERSATION = (
    answers,
    conversation_outcomes,
    consents,
    contacts,
    inbox_messages,
    conversation_states,
    leads,
    deliveries,
    whatsapp_customers,  # after whatsapp_messages, which are found by it (_whatsapp_gone)
)
_NOT_KEPT_IDLE_S = 86400.0


@dataclass(frozen=True, slots=True)
class Consent:
    bot: str
    conversation_id: str
    at: float
    notice_version: str
    keep: bool


@dataclass(frozen=True, slots=True)
class ConversationRef:
    bot: str
    conversation_id: str


class NotAContact(ValueError):
    """What staff typed to find a customer is neither an e-mail address nor a phone number."""


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def conversation_key(token: str) -> str:
    """What a conversation is kept and shown to staff under: a hash of the customer's token.
    The token is the customer's proof on the public chat API (read the conversation back, add
    to it, erase it); staff see conversations in the console and the database holds them, so
    neither may hold the token itself, and a hash of 128 random bits cannot be turned back."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


class PersonalData:
    def __init__(self, engine: Engine, contact_secret: bytes) -> None:
        self._engine = engine
        self._secret = contact_secret

    # -- consent ------------------------------------------------------------------------
    def consent(self, bot: str, notice_version: str, keep: bool) -> tuple[Consent, str]:
        """Record a customer's agreement to the notice: it starts a conversation. The record
        (under the conversation's key) and the customer's token, given to them alone."""
        token = uuid.uuid4().hex
        record = Consent(bot, conversation_key(token), time.time(), notice_version, keep)
        with self._engine.begin() as db:
            db.execute(
                insert(consents).values(
                    conversation_id=record.conversation_id,
                    bot=bot,
                    at=record.at,
                    notice_version=notice_version,
                    keep=keep,
                )
            )
        return record, token

    def conversations_started(self, bot: str, since: float) -> int:
        """Conversations begun since a time (each begins with the customer's consent)."""
        query = select(func.count()).where(consents.c.bot == bot, consents.c.at >= since)
        with self._engine.connect() as db:
            return int(db.execute(query).scalar_one())

    def consent_of(self, bot: str, conversation_id: str) -> Consent | None:
        query = select(consents).where(
            consents.c.bot == bot, consents.c.conversation_id == conversation_id
        )
        with self._engine.connect() as db:
            row = db.execute(query).mappings().one_or_none()
        if row is None:
            return None
        return Consent(
            row["bot"], row["conversation_id"], row["at"], row["notice_version"], bool(row["keep"])
        )

    # -- contacts -----------------------------------------------------------------------
    def _key(self, contact: str) -> str:
        return hmac.new(self._secret, contact.encode(), hashlib.sha256).hexdigest()

    def remember_contacts(self, bot: str, conversation_id: str, message: str) -> None:
        """Keep keyed hashes of the e-mail addresses and phone numbers in a customer's message,
        so that the conversation can be found by them when the customer asks."""
        keys = {self._key(k) for k in contact_keys(message)}
        if not keys:
            return
        with self._engine.begin() as db:
            known = set(
                db.execute(
                    select(contacts.c.key_hash).where(contacts.c.conversation_id == conversation_id)
                ).scalars()
            )
            rows = [
                {"bot": bot, "conversation_id": conversation_id, "key_hash": k, "at": time.time()}
                for k in keys - known
            ]
            if rows:
                db.execute(insert(contacts), rows)

    # -- finding ------------------------------------------------------------------------
    def find(
        self, *, conversation: str | None = None, contact: str | None = None
    ) -> list[ConversationRef]:
        """The conversations of one customer, by the reference staff see (the conversation's
        key) or by an e-mail address or phone number the customer gave; any bot."""
        query: Select[Any] | CompoundSelect[Any]
        if conversation is not None:
            wanted = conversation.strip().lower()
            # Conversations stored before consents existed have answers but no consent.
            query = (
                select(consents.c.bot, consents.c.conversation_id)
                .where(consents.c.conversation_id == wanted)
                .union(
                    select(answers.c.bot, answers.c.conversation_id).where(
                        answers.c.conversation_id == wanted
                    )
                )
            )
        else:
            normalised = normalise_contact(contact or "")
            if normalised is None:
                raise NotAContact(f"{contact!r} is neither an e-mail address nor a phone number")
            query = select(contacts.c.bot, contacts.c.conversation_id).where(
                contacts.c.key_hash == self._key(normalised)
            )
        with self._engine.connect() as db:
            found = {ConversationRef(row[0], row[1]) for row in db.execute(query)}
        return sorted(found, key=lambda r: (r.bot, r.conversation_id))

    # -- access and portability -----------------------------------------------------------
    def export(self, refs: list[ConversationRef]) -> list[dict[str, Any]]:
        """Everything held of these conversations, as JSON-ready data."""
        out = []
        with self._engine.connect() as db:
            for ref in refs:
                consent = self.consent_of(ref.bot, ref.conversation_id)
                rows = db.execute(
                    select(answers)
                    .where(
                        answers.c.bot == ref.bot, answers.c.conversation_id == ref.conversation_id
                    )
                    .order_by(answers.c.id)
                ).mappings()
                out.append(
                    {
                        "bot": ref.bot,
                        "conversation_id": ref.conversation_id,
                        "consent": None
                        if consent is None
                        else {
                            "at": iso(consent.at),
                            "notice_version": consent.notice_version,
                            "kept": consent.keep,
                        },
                        "turns": [_turn(row) for row in rows],
                        "messages": [
                            {
                                "at": iso(m["at"]),
                                "author": m["author"],
                                "name": m["name"],
                                "text": m["text"],
                            }
                            for m in db.execute(
                                select(inbox_messages)
                                .where(
                                    inbox_messages.c.bot == ref.bot,
                                    inbox_messages.c.conversation_id == ref.conversation_id,
                                )
                                .order_by(inbox_messages.c.id)
                            ).mappings()
                        ],
                    }
                )
        return out

    # -- erasure and retention -----------------------------------------------------------
    def erase(self, refs: list[ConversationRef]) -> int:
        """Delete these conversations, their consents and contacts; the rows removed."""
        removed = 0
        with self._engine.begin() as db:
            for ref in refs:
                removed += _whatsapp_gone(db, ref.bot, ref.conversation_id)
                for table in _PER_CONVERSATION:
                    removed += db.execute(
                        delete(table).where(
                            table.c.bot == ref.bot, table.c.conversation_id == ref.conversation_id
                        )
                    ).rowcount
        self.scrub()
        return removed

    def purge(self, retention_days: dict[str, int], default_days: int, now: float) -> int:
        """Delete what is older than each bot's retention period; the rows removed.
        `retention_days` gives the bots that set their own, others get `default_days`."""
        removed = 0
        with self._engine.begin() as db:
            bots = set(retention_days)
            dated = (
                (answers, answers.c.created_at),
                (conversation_outcomes, conversation_outcomes.c.last_at),
                (consents, consents.c.at),
                (contacts, contacts.c.at),
                (inbox_messages, inbox_messages.c.at),
                (conversation_states, conversation_states.c.updated_at),
                (leads, leads.c.created_at),
                (deliveries, deliveries.c.created_at),
                # A WhatsApp customer idle past the period: their number and what is left of
                # their messages (their next message asks for consent again).
                (whatsapp_messages, whatsapp_messages.c.at),
                (whatsapp_customers, whatsapp_customers.c.last_inbound_at),
            )
            for table, at in dated:
                for bot, days in retention_days.items():
                    cutoff = now - days * 86400
                    query = delete(table).where(table.c.bot == bot, at < cutoff)
                    removed += db.execute(query).rowcount
                others = delete(table).where(
                    table.c.bot.not_in(bots), at < now - default_days * 86400
                )
                removed += db.execute(others).rowcount
            # A conversation not kept was stored only for the person helping; idle a day, it
            # is over.
            idle = select(conversation_states.c.conversation_id).where(
                and_(
                    conversation_states.c.keep.is_(False),
                    conversation_states.c.updated_at < now - _NOT_KEPT_IDLE_S,
                )
            )
            for table in (inbox_messages, conversation_states):
                removed += db.execute(
                    delete(table).where(table.c.conversation_id.in_(idle))
                ).rowcount
        self.scrub()
        return removed

    def delete_bot(self, bot: str) -> None:
        with self._engine.begin() as db:
            tables = (consents, contacts, inbox_messages, conversation_states, leads)
            for table in (*tables, conversation_outcomes):
                db.execute(delete(table).where(table.c.bot == bot))
        self.scrub()

    def scrub(self) -> None:
        """Leave no copy of deleted rows in SQLite's write-ahead log (the deleted cells and free
        pages themselves are zeroed by secure_delete)."""
        if self._engine.dialect.name != "sqlite":
            return  # PostgreSQL: its VACUUM is the database administrator's (docs/PDPA.md)
        for _ in range(50):
            with self._engine.connect() as db:
                busy, _, _ = db.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
            if not busy:
                return
            time.sleep(0.1)  # a reader holds an old snapshot; it lets go within moments
        log.warning("the write-ahead log could not be truncated; it will be at the next purge")


def _whatsapp_gone(db: Any, bot: str, conversation_id: str) -> int:
    """A WhatsApp customer's messages, found by their conversation (their row goes with the
    conversation's other rows)."""
    numbers = select(whatsapp_customers.c.number_key).where(
        whatsapp_customers.c.bot == bot, whatsapp_customers.c.conversation_id == conversation_id
    )
    gone = delete(whatsapp_messages).where(
        whatsapp_messages.c.bot == bot, whatsapp_messages.c.number_key.in_(numbers)
    )
    return int(db.execute(gone).rowcount)


def _turn(row: Any) -> dict[str, Any]:
    rating = {1: "up", -1: "down"}.get(row["rating"])
    return {
        "at": iso(row["created_at"]),
        "question": row["question"],
        "answer": row["answer"],
        "answered": bool(row["answered"]),
        "language": row["language"],
        "sources": json.loads(row["sources"]),
        "rating": rating,
    }
