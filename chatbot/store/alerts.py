"""Webhooks and the outbox of deliveries, as stored.

A delivery is claimed by one server at a time with a conditional update (state and claim time
checked in the same statement), so two servers draining the outbox never send one twice; a
server that dies mid-send lets its claim lapse and another sends it again (a receiver dedupes
by the delivery id it is given)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, or_, select, update

from chatbot.privacy.keys import Sealer
from chatbot.store.database import inserted_id
from chatbot.store.schema import deliveries, webhooks

CLAIM_S = 60.0  # longest a send may take before another server may try it


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    bot: str
    url: str
    events: list[str]
    created_at: float
    created_by: str


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    bot: str
    channel: str  # webhook | email
    target: str
    webhook_id: int | None
    event: str
    payload: dict[str, Any]
    state: str  # pending | sending | delivered | failed
    attempts: int
    next_at: float
    outcome: str
    created_at: float
    updated_at: float


class AlertStore:
    def __init__(self, engine: Engine, key: bytes) -> None:
        self._engine, self._sealer = engine, Sealer(key)

    # -- webhooks ---------------------------------------------------------------------------
    def add_webhook(self, bot: str, url: str, events: list[str], secret: str, actor: str) -> int:
        sealed = self._sealer.seal(secret.encode(), f"{bot}\0{url}")
        with self._engine.begin() as db:
            result = db.execute(
                insert(webhooks).values(
                    bot=bot,
                    url=url,
                    events=json.dumps(events),
                    secret=sealed,
                    created_at=time.time(),
                    created_by=actor,
                )
            )
        return inserted_id(result)

    def webhooks(self, bot: str) -> list[Webhook]:
        query = select(webhooks).where(webhooks.c.bot == bot).order_by(webhooks.c.id)
        with self._engine.connect() as db:
            return [
                Webhook(
                    r["id"],
                    r["bot"],
                    r["url"],
                    json.loads(r["events"]),
                    r["created_at"],
                    r["created_by"],
                )
                for r in db.execute(query).mappings()
            ]

    def secret(self, webhook_id: int) -> str | None:
        query = select(webhooks.c.bot, webhooks.c.url, webhooks.c.secret).where(
            webhooks.c.id == webhook_id
        )
        with self._engine.connect() as db:
            row = db.execute(query).first()
        if row is None:
            return None
        bot, url, sealed = row
        opened = self._sealer.open(sealed, f"{bot}\0{url}")
        return None if opened is None else opened.decode()

    def remove_webhook(self, bot: str, webhook_id: int) -> bool:
        with self._engine.begin() as db:
            gone = db.execute(
                delete(webhooks).where(webhooks.c.bot == bot, webhooks.c.id == webhook_id)
            ).rowcount
            # What it still owed is not sent anywhere now.
            db.execute(
                update(deliveries)
                .where(deliveries.c.webhook_id == webhook_id, deliveries.c.state == "pending")
                .values(state="failed", outcome="the webhook was removed", updated_at=time.time())
            )
        return bool(gone)

    # -- the outbox -------------------------------------------------------------------------
    def owe(
        self,
        bot: str,
        channel: str,
        target: str,
        event: str,
        payload: dict[str, Any],
        webhook_id: int | None = None,
    ) -> int:
        """A delivery owed, sent as soon as a server drains the outbox."""
        now = time.time()
        with self._engine.begin() as db:
            result = db.execute(
                insert(deliveries).values(
                    bot=bot,
                    channel=channel,
                    target=target,
                    webhook_id=webhook_id,
                    event=event,
                    conversation_id=str(payload.get("conversation", "")),
                    payload=json.dumps(payload, ensure_ascii=False),
                    state="pending",
                    attempts=0,
                    next_at=now,
                    claimed_until=0.0,
                    outcome="",
                    created_at=now,
                    updated_at=now,
                )
            )
        return inserted_id(result)

    def claim_due(self, now: float, limit: int = 20) -> list[Delivery]:
        """Deliveries due now that this server alone will send (each claimed for CLAIM_S)."""
        c = deliveries.c
        due = or_(
            (c.state == "pending") & (c.next_at <= now),
            (c.state == "sending") & (c.claimed_until < now),  # a server died sending it
        )
        with self._engine.connect() as db:
            query = select(c.id).where(due).order_by(c.next_at).limit(limit)
            candidates = db.execute(query).scalars().all()
        claimed = []
        for delivery_id in candidates:
            with self._engine.begin() as db:
                mine = db.execute(
                    update(deliveries)
                    .where(c.id == delivery_id, due)
                    .values(
                        state="sending",
                        claimed_until=now + CLAIM_S,
                        attempts=c.attempts + 1,
                        updated_at=now,
                    )
                ).rowcount
                if mine:
                    row = db.execute(select(deliveries).where(c.id == delivery_id)).mappings()
                    claimed.append(_delivery(row.one()))
        return claimed

    def settle(self, delivery_id: int, ok: bool, outcome: str, retry_at: float | None) -> None:
        """A send's outcome: delivered, retried at `retry_at`, or (None) failed for good."""
        state = "delivered" if ok else ("pending" if retry_at is not None else "failed")
        values: dict[str, Any] = {
            "state": state,
            "outcome": outcome[:500],
            "updated_at": time.time(),
        }
        if retry_at is not None:
            values["next_at"] = retry_at
        with self._engine.begin() as db:
            db.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))

    def recent(self, bot: str, limit: int = 50) -> list[Delivery]:
        query = (
            select(deliveries)
            .where(deliveries.c.bot == bot)
            .order_by(deliveries.c.id.desc())
            .limit(limit)
        )
        with self._engine.connect() as db:
            return [_delivery(row) for row in db.execute(query).mappings()]

    def forget_bot(self, bot: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(deliveries).where(deliveries.c.bot == bot))
            db.execute(delete(webhooks).where(webhooks.c.bot == bot))


def _delivery(row: Any) -> Delivery:
    return Delivery(
        row["id"],
        row["bot"],
        row["channel"],
        row["target"],
        row["webhook_id"],
        row["event"],
        json.loads(row["payload"]),
        row["state"],
        row["attempts"],
        row["next_at"],
        row["outcome"],
        row["created_at"],
        row["updated_at"],
    )
