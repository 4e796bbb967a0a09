"""WhatsApp as stored: each bot's channel (its number on Meta's Cloud API and the secrets that
go with it), its customers by number, and every message in and out.

Secrets, customers' numbers and what they wrote are sealed (AES-GCM, a key of the data
directory's) and bound to their row; a number is found by a keyed hash of it. A message's body
is kept only until it is handled (an incoming one) or sent (an outgoing one); what stays is
Meta's id, for deduplication and delivery receipts, and the outcome.

Two servers share the work through the database: an incoming message is stored once (Meta's id
is unique per bot and direction, so a retried webhook adds nothing), and a customer's messages
are handled by one server at a time, in the order received (`lease`), their replies sent in
order too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from chatbot.privacy.keys import Sealer
from chatbot.store.database import inserted_id
from chatbot.store.schema import whatsapp_channels, whatsapp_customers, whatsapp_messages

LEASE_S = 120.0  # longest one server may take over a customer's messages before another may
SEND_CLAIM_S = 60.0  # longest a send may take before it may be tried again


@dataclass(frozen=True, slots=True)
class Channel:
    bot: str
    phone_number_id: str
    access_token: str
    app_secret: str
    verify_token: str
    template: str  # an approved template's name for replies past 24 hours; "" for none
    template_language: str
    problem: str  # what Meta last refused ("" when the last call went through)
    problem_at: float
    updated_at: float
    updated_by: str


@dataclass(frozen=True, slots=True)
class Customer:
    bot: str
    number_key: str
    number: str
    conversation_id: str  # "" until they agree to the privacy notice
    language: str
    last_inbound_at: float
    notice_at: float


@dataclass(frozen=True, slots=True)
class WaMessage:
    id: int
    bot: str
    number_key: str
    direction: str
    wamid: str | None
    kind: str
    body: dict[str, Any]
    state: str
    attempts: int
    at: float
    outcome: str  # Meta's last word on it ("" when all went well)


class WhatsAppStore:
    def __init__(self, engine: Engine, key: bytes) -> None:
        self._engine, self._sealer, self._key = engine, Sealer(key), key

    # -- channels ---------------------------------------------------------------------------
    def connect(
        self,
        bot: str,
        phone_number_id: str,
        secrets: dict[str, str],
        template: tuple[str, str] | None,
        actor: str,
    ) -> None:
        """Set (or replace) the bot's channel; its problem is forgotten, and replies that
        waited for a good token are due now."""
        now = time.time()
        sealed = self._sealer.seal(json.dumps(secrets).encode(), f"channel\0{bot}")
        values = {
            "phone_number_id": phone_number_id,
            "secrets": sealed,
            "template": json.dumps(template) if template else "",
            "problem": "",
            "problem_at": 0.0,
            "updated_at": now,
            "updated_by": actor,
        }
        with self._engine.begin() as db:
            if not db.execute(
                update(whatsapp_channels).where(whatsapp_channels.c.bot == bot).values(**values)
            ).rowcount:
                db.execute(insert(whatsapp_channels).values(bot=bot, **values))
            db.execute(
                update(whatsapp_messages)
                .where(
                    whatsapp_messages.c.bot == bot,
                    whatsapp_messages.c.direction == "out",
                    whatsapp_messages.c.state == "pending",
                )
                .values(next_at=now)
            )

    def channel(self, bot: str) -> Channel | None:
        query = select(whatsapp_channels).where(whatsapp_channels.c.bot == bot)
        with self._engine.connect() as db:
            row = db.execute(query).mappings().first()
        if row is None:
            return None
        opened = self._sealer.open(row["secrets"], f"channel\0{bot}")
        secrets = json.loads(opened) if opened else {}
        name, language = json.loads(row["template"]) if row["template"] else ("", "")
        return Channel(
            bot,
            row["phone_number_id"],
            secrets.get("access_token", ""),
            secrets.get("app_secret", ""),
            secrets.get("verify_token", ""),
            name,
            language,
            row["problem"],
            row["problem_at"],
            row["updated_at"],
            row["updated_by"],
        )

    def bot_of_number(self, phone_number_id: str) -> str | None:
        query = select(whatsapp_channels.c.bot).where(
            whatsapp_channels.c.phone_number_id == phone_number_id
        )
        with self._engine.connect() as db:
            return db.execute(query).scalar_one_or_none()

    def problem(self, bot: str, problem: str) -> None:
        """What Meta refused ("" once a call goes through again), for the console and /readyz."""
        with self._engine.begin() as db:
            db.execute(
                update(whatsapp_channels)
                .where(whatsapp_channels.c.bot == bot, whatsapp_channels.c.problem != problem)
                .values(problem=problem, problem_at=time.time())
            )

    def problems(self) -> dict[str, str]:
        query = select(whatsapp_channels.c.bot, whatsapp_channels.c.problem).where(
            whatsapp_channels.c.problem != ""
        )
        with self._engine.connect() as db:
            return {bot: problem for bot, problem in db.execute(query)}

    def disconnect(self, bot: str) -> bool:
        with self._engine.begin() as db:
            return bool(
                db.execute(delete(whatsapp_channels).where(whatsapp_channels.c.bot == bot)).rowcount
            )

    # -- customers --------------------------------------------------------------------------
    def number_key(self, number: str) -> str:
        return hmac.new(self._key, f"wa\0{number}".encode(), hashlib.sha256).hexdigest()

    def customer(self, bot: str, number_key: str) -> Customer | None:
        query = select(whatsapp_customers).where(
            whatsapp_customers.c.bot == bot, whatsapp_customers.c.number_key == number_key
        )
        with self._engine.connect() as db:
            row = db.execute(query).mappings().first()
        return None if row is None else self._customer(row)

    def customer_of(self, bot: str, conversation_id: str) -> Customer | None:
        """The WhatsApp customer whose conversation this is; None for a web chat's."""
        if not conversation_id:
            return None
        query = select(whatsapp_customers).where(
            whatsapp_customers.c.bot == bot,
            whatsapp_customers.c.conversation_id == conversation_id,
        )
        with self._engine.connect() as db:
            row = db.execute(query).mappings().first()
        return None if row is None else self._customer(row)

    def on_whatsapp(self, bot: str, conversation_ids: list[str]) -> dict[str, str]:
        """Which of these conversations are WhatsApp ones: their customers' numbers."""
        query = select(whatsapp_customers).where(
            whatsapp_customers.c.bot == bot,
            whatsapp_customers.c.conversation_id.in_(conversation_ids),
        )
        with self._engine.connect() as db:
            customers = [self._customer(row) for row in db.execute(query).mappings()]
        return {c.conversation_id: c.number for c in customers}

    def _customer(self, row: Any) -> Customer:
        key = row["number_key"]
        opened = self._sealer.open(row["number"], f"number\0{row['bot']}\0{key}")
        return Customer(
            row["bot"],
            key,
            opened.decode() if opened else "",
            row["conversation_id"],
            row["language"],
            row["last_inbound_at"],
            row["notice_at"],
        )

    def agreed(self, bot: str, number_key: str, conversation_id: str) -> None:
        """The customer agreed to the notice: their conversation, and what they wrote before
        agreeing is answered now, in order."""
        with self._engine.begin() as db:
            db.execute(self._customer_set(bot, number_key, conversation_id=conversation_id))
            db.execute(
                update(whatsapp_messages)
                .where(
                    whatsapp_messages.c.bot == bot,
                    whatsapp_messages.c.number_key == number_key,
                    whatsapp_messages.c.state == "parked",
                )
                .values(state="pending", updated_at=time.time())
            )

    def noticed(self, bot: str, number_key: str, language: str) -> None:
        with self._engine.begin() as db:
            db.execute(
                self._customer_set(bot, number_key, notice_at=time.time(), language=language)
            )

    def spoke(self, bot: str, number_key: str, language: str) -> None:
        with self._engine.begin() as db:
            db.execute(self._customer_set(bot, number_key, language=language))

    @staticmethod
    def _customer_set(bot: str, number_key: str, **values: Any) -> Any:
        c = whatsapp_customers.c
        return (
            update(whatsapp_customers)
            .where(c.bot == bot, c.number_key == number_key)
            .values(**values)
        )

    # -- incoming ---------------------------------------------------------------------------
    def receive(
        self, bot: str, number: str, wamid: str, kind: str, body: dict[str, Any], at: float
    ) -> bool:
        """Keep an incoming message for handling; False when it was already received (Meta
        sends a webhook again until it is answered 200, and may send it twice anyway)."""
        key = self.number_key(number)
        now = time.time()
        with self._engine.begin() as db:
            known = db.execute(
                select(whatsapp_customers.c.last_inbound_at).where(
                    whatsapp_customers.c.bot == bot, whatsapp_customers.c.number_key == key
                )
            ).first()
            if known is None:
                sealed_number = self._sealer.seal(number.encode(), f"number\0{bot}\0{key}")
                try:
                    with db.begin_nested():
                        db.execute(
                            insert(whatsapp_customers).values(
                                bot=bot,
                                number_key=key,
                                number=sealed_number,
                                conversation_id="",
                                language="en",
                                last_inbound_at=at,
                                notice_at=0.0,
                                busy_until=0.0,
                                created_at=now,
                            )
                        )
                except IntegrityError:  # another server added them a moment ago
                    pass
            try:
                with db.begin_nested():
                    db.execute(self._new(bot, key, "in", wamid, kind, body, at))
            except IntegrityError:
                return False
            db.execute(
                update(whatsapp_customers)
                .where(
                    whatsapp_customers.c.bot == bot,
                    whatsapp_customers.c.number_key == key,
                    whatsapp_customers.c.last_inbound_at < at,
                )
                .values(last_inbound_at=at)
            )
        return True

    def due(self, now: float) -> list[tuple[str, str]]:
        """(bot, number key) of customers with a message to handle or a reply due to be sent."""
        m = whatsapp_messages.c
        waiting = or_(
            and_(m.direction == "in", m.state == "pending"),
            and_(m.direction == "out", m.state == "pending", m.next_at <= now),
            and_(m.direction == "out", m.state == "sending", m.claimed_until < now),
        )
        query = select(m.bot, m.number_key).where(waiting).group_by(m.bot, m.number_key)
        with self._engine.connect() as db:
            return [(bot, key) for bot, key in db.execute(query)]

    def lease(self, bot: str, number_key: str, now: float) -> bool:
        """This server alone handles the customer's messages until `release` (or LEASE_S)."""
        c = whatsapp_customers.c
        with self._engine.begin() as db:
            return bool(
                db.execute(
                    update(whatsapp_customers)
                    .where(c.bot == bot, c.number_key == number_key, c.busy_until < now)
                    .values(busy_until=now + LEASE_S)
                ).rowcount
            )

    def release(self, bot: str, number_key: str) -> None:
        with self._engine.begin() as db:
            db.execute(self._customer_set(bot, number_key, busy_until=0.0))

    def next_incoming(self, bot: str, number_key: str) -> WaMessage | None:
        """The customer's oldest message not yet handled (call only while holding the lease)."""
        m = whatsapp_messages.c
        query = (
            select(whatsapp_messages)
            .where(
                m.bot == bot, m.number_key == number_key, m.direction == "in", m.state == "pending"
            )
            .order_by(m.id)
            .limit(1)
        )
        with self._engine.connect() as db:
            row = db.execute(query).mappings().first()
        return None if row is None else self._message(row)

    def handled(self, message_id: int, state: str = "done", outcome: str = "") -> None:
        """An incoming message handled (its words forgotten here), or parked until consent."""
        values: dict[str, Any] = {"state": state, "outcome": outcome, "updated_at": time.time()}
        if state != "parked":
            values["body"] = None
        with self._engine.begin() as db:
            db.execute(
                update(whatsapp_messages)
                .where(whatsapp_messages.c.id == message_id)
                .values(**values)
            )

    # -- outgoing ---------------------------------------------------------------------------
    def owe(self, bot: str, number_key: str, kind: str, body: dict[str, Any]) -> int:
        """A message to send the customer, after those owed before it."""
        with self._engine.begin() as db:
            result = db.execute(self._new(bot, number_key, "out", None, kind, body, time.time()))
        return inserted_id(result)

    def next_outgoing(self, bot: str, number_key: str, now: float) -> WaMessage | None:
        """The customer's oldest reply not yet sent, claimed for sending when it is due; None
        when there is none, or the oldest must wait (a retry later): those after it wait too,
        so that replies arrive in order."""
        m = whatsapp_messages.c
        query = (
            select(whatsapp_messages)
            .where(
                m.bot == bot,
                m.number_key == number_key,
                m.direction == "out",
                m.state.in_(("pending", "sending")),
            )
            .order_by(m.id)
            .limit(1)
        )
        with self._engine.begin() as db:
            row = db.execute(query).mappings().first()
            if row is None:
                return None
            due = (row["state"] == "pending" and row["next_at"] <= now) or (
                row["state"] == "sending" and row["claimed_until"] < now
            )
            if not due:
                return None
            db.execute(
                update(whatsapp_messages)
                .where(m.id == row["id"])
                .values(
                    state="sending",
                    claimed_until=now + SEND_CLAIM_S,
                    attempts=m.attempts + 1,
                    updated_at=now,
                )
            )
        return self._message(row)

    def sent(self, message_id: int, wamid: str) -> None:
        with self._engine.begin() as db:
            db.execute(
                update(whatsapp_messages)
                .where(whatsapp_messages.c.id == message_id)
                .values(state="sent", wamid=wamid, body=None, outcome="", updated_at=time.time())
            )

    def retry(self, message_id: int, at: float, outcome: str) -> None:
        with self._engine.begin() as db:
            db.execute(
                update(whatsapp_messages)
                .where(whatsapp_messages.c.id == message_id)
                .values(state="pending", next_at=at, outcome=outcome[:500], updated_at=time.time())
            )

    def failed(self, message_id: int, outcome: str) -> None:
        with self._engine.begin() as db:
            db.execute(
                update(whatsapp_messages)
                .where(whatsapp_messages.c.id == message_id)
                .values(state="failed", body=None, outcome=outcome[:500], updated_at=time.time())
            )

    def status(self, bot: str, wamid: str, status: str, outcome: str) -> bool:
        """A delivery receipt (sent, delivered, read, failed) for a message we sent."""
        order = ["sent", "delivered", "read"]
        m = whatsapp_messages.c
        with self._engine.begin() as db:
            row = db.execute(
                select(m.id, m.state).where(m.bot == bot, m.direction == "out", m.wamid == wamid)
            ).first()
            if row is None:
                return False
            # Receipts may arrive out of order: "read" is not undone by a late "delivered".
            if (
                status in order
                and row.state in order
                and order.index(status) <= order.index(row.state)
            ):
                return True
            db.execute(
                update(whatsapp_messages)
                .where(m.id == row.id)
                .values(state=status, outcome=outcome[:500], updated_at=time.time())
            )
        return True

    def outgoing(self, bot: str, limit: int = 50) -> list[WaMessage]:
        """The latest replies and their delivery, newest first, for staff (no words)."""
        m = whatsapp_messages.c
        query = (
            select(whatsapp_messages)
            .where(m.bot == bot, m.direction == "out")
            .order_by(m.id.desc())
            .limit(limit)
        )
        with self._engine.connect() as db:
            return [self._message({**row, "body": None}) for row in db.execute(query).mappings()]

    # -- privacy ----------------------------------------------------------------------------
    def forget_customer(self, bot: str, number_key: str) -> None:
        with self._engine.begin() as db:
            for table in (whatsapp_messages, whatsapp_customers):
                db.execute(
                    delete(table).where(table.c.bot == bot, table.c.number_key == number_key)
                )

    def purge(self, now: float, parked_s: float, done_s: float) -> int:
        """Customers who never agreed, and what they wrote, after `parked_s`; handled messages'
        ids (kept for deduplication and receipts) after `done_s`."""
        m, c = whatsapp_messages.c, whatsapp_customers.c
        removed = 0
        with self._engine.begin() as db:
            never = db.execute(
                select(c.bot, c.number_key).where(
                    c.conversation_id == "", c.last_inbound_at < now - parked_s
                )
            ).all()
            for bot, key in never:
                for table in (whatsapp_messages, whatsapp_customers):
                    removed += db.execute(
                        delete(table).where(table.c.bot == bot, table.c.number_key == key)
                    ).rowcount
            removed += db.execute(
                delete(whatsapp_messages).where(
                    m.state.in_(("done", "sent", "delivered", "read", "failed")),
                    m.updated_at < now - done_s,
                )
            ).rowcount
        return removed

    def forget_bot(self, bot: str) -> None:
        with self._engine.begin() as db:
            for table in (whatsapp_messages, whatsapp_customers, whatsapp_channels):
                db.execute(delete(table).where(table.c.bot == bot))

    def _new(
        self,
        bot: str,
        number_key: str,
        direction: str,
        wamid: str | None,
        kind: str,
        body: dict[str, Any],
        at: float,
    ) -> Any:
        """A message's row, pending: to be handled (in) or sent (out)."""
        now = time.time()
        return insert(whatsapp_messages).values(
            bot=bot,
            number_key=number_key,
            direction=direction,
            wamid=wamid,
            kind=kind,
            body=self._seal_body(bot, number_key, body),
            state="pending",
            attempts=0,
            next_at=now,
            claimed_until=0.0,
            outcome="",
            at=at,
            updated_at=now,
        )

    # -- sealing ----------------------------------------------------------------------------
    def _seal_body(self, bot: str, number_key: str, body: dict[str, Any]) -> bytes:
        plain = json.dumps(body, ensure_ascii=False).encode()
        return self._sealer.seal(plain, f"message\0{bot}\0{number_key}")

    def _message(self, row: Any) -> WaMessage:
        body: dict[str, Any] = {}
        if row["body"]:
            opened = self._sealer.open(row["body"], f"message\0{row['bot']}\0{row['number_key']}")
            body = json.loads(opened) if opened else {}
        return WaMessage(
            row["id"],
            row["bot"],
            row["number_key"],
            row["direction"],
            row["wamid"],
            row["kind"],
            body,
            row["state"],
            row["attempts"],
            row["at"],
            row["outcome"],
        )
