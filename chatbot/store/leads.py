"""Leads as stored: what a customer left for a call back, sealed with the data directory's
`leads` key and bound to its row's bot and conversation (one lead's details cannot be passed
off as another's), and the status staff give it."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from chatbot.privacy.keys import Sealer
from chatbot.store.database import inserted_id
from chatbot.store.schema import leads


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class LeadDetails:
    name: str
    phone: str
    email: str
    message: str


@dataclass(frozen=True, slots=True)
class Lead:
    id: int
    bot: str
    conversation_id: str
    created_at: float
    status: LeadStatus
    language: str
    updated_by: str
    details: LeadDetails | None  # None: sealed with another key (a data directory restored
    # without its secrets): the row is shown, its details cannot be read


class Leads:
    def __init__(self, engine: Engine, key: bytes) -> None:
        self._engine, self._sealer = engine, Sealer(key)

    def _seal(self, bot: str, conversation_id: str, details: LeadDetails) -> bytes:
        plain = json.dumps(asdict(details), ensure_ascii=False).encode()
        return self._sealer.seal(plain, f"{bot}\0{conversation_id}")

    def _open(self, row: Any) -> LeadDetails | None:
        opened = self._sealer.open(row["sealed"], f"{row['bot']}\0{row['conversation_id']}")
        return None if opened is None else LeadDetails(**json.loads(opened))

    def add(self, bot: str, conversation_id: str, details: LeadDetails, language: str) -> int:
        now = time.time()
        with self._engine.begin() as db:
            result = db.execute(
                insert(leads).values(
                    bot=bot,
                    conversation_id=conversation_id,
                    created_at=now,
                    status=LeadStatus.NEW,
                    sealed=self._seal(bot, conversation_id, details),
                    language=language,
                    updated_at=now,
                    updated_by="",
                )
            )
        return inserted_id(result)

    def count_new(self, bot: str) -> int:
        """Leads no one has marked contacted or done yet."""
        query = select(func.count()).where(leads.c.bot == bot, leads.c.status == LeadStatus.NEW)
        with self._engine.connect() as db:
            return int(db.execute(query).scalar_one())

    def created_since(self, bot: str, since: float) -> list[float]:
        """When each of the bot's leads since a time was left (nothing opened)."""
        query = select(leads.c.created_at).where(leads.c.bot == bot, leads.c.created_at >= since)
        with self._engine.connect() as db:
            return list(db.execute(query).scalars())

    def of_bot(self, bot: str, limit: int = 200) -> list[Lead]:
        """The bot's leads, newest first, their details opened (the caller decides what of
        them is shown)."""
        query = select(leads).where(leads.c.bot == bot).order_by(leads.c.id.desc()).limit(limit)
        with self._engine.connect() as db:
            return [self._lead(row) for row in db.execute(query).mappings()]

    def of_conversation(self, bot: str, conversation_id: str) -> list[Lead]:
        query = (
            select(leads)
            .where(leads.c.bot == bot, leads.c.conversation_id == conversation_id)
            .order_by(leads.c.id)
        )
        with self._engine.connect() as db:
            return [self._lead(row) for row in db.execute(query).mappings()]

    def get(self, bot: str, lead_id: int) -> Lead | None:
        query = select(leads).where(leads.c.bot == bot, leads.c.id == lead_id)
        with self._engine.connect() as db:
            row = db.execute(query).mappings().first()
        return None if row is None else self._lead(row)

    def set_status(self, bot: str, lead_id: int, status: LeadStatus, actor: str) -> bool:
        query = (
            update(leads)
            .where(leads.c.bot == bot, leads.c.id == lead_id)
            .values(status=status, updated_at=time.time(), updated_by=actor)
        )
        with self._engine.begin() as db:
            return bool(db.execute(query).rowcount)

    def _lead(self, row: Any) -> Lead:
        return Lead(
            row["id"],
            row["bot"],
            row["conversation_id"],
            row["created_at"],
            LeadStatus(row["status"]),
            row["language"],
            row["updated_by"],
            self._open(row),
        )
