"""Pinned answers as stored (the database) and as searched (an FAQ document in the bot's
knowledge base, rebuilt whole on every change: a few hundred entries at most)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select

from chatbot.answering.pinned import PINNED_SOURCE
from chatbot.store.schema import pinned_answers
from knowledge.base import KnowledgeBase
from knowledge.documents import Block, BlockKind, LoadedDocument


@dataclass(frozen=True, slots=True)
class Pin:
    id: int
    question: str
    answer: str
    created_at: float
    actor: str


class PinnedAnswers:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def all(self, bot: str) -> list[Pin]:
        query = (
            select(
                pinned_answers.c.id,
                pinned_answers.c.question,
                pinned_answers.c.answer,
                pinned_answers.c.created_at,
                pinned_answers.c.actor,
            )
            .where(pinned_answers.c.bot == bot)
            .order_by(pinned_answers.c.id)
        )
        with self._engine.connect() as db:
            return [Pin(*row) for row in db.execute(query)]

    def add(self, bot: str, question: str, answer: str, actor: str) -> None:
        with self._engine.begin() as db:
            db.execute(
                insert(pinned_answers).values(
                    bot=bot,
                    question=" ".join(question.split()),
                    answer=answer.strip(),
                    created_at=time.time(),
                    actor=actor,
                )
            )

    def remove(self, bot: str, pin_id: int) -> bool:
        with self._engine.begin() as db:
            condition = (pinned_answers.c.bot == bot) & (pinned_answers.c.id == pin_id)
            return bool(db.execute(delete(pinned_answers).where(condition)).rowcount)

    def forget_bot(self, bot: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(pinned_answers).where(pinned_answers.c.bot == bot))

    def publish(self, bot: str, kb: KnowledgeBase) -> None:
        """Make the knowledge base's pinned-answers document match the stored pins."""
        pins = self.all(bot)
        if not pins:
            kb.forget(PINNED_SOURCE)
            return
        blocks = [Block(BlockKind.FAQ, f"{p.question}\n{p.answer}") for p in pins]
        content = "\n\n".join(b.text for b in blocks).encode()
        kb.add_document(
            source=PINNED_SOURCE,
            path="(pinned in the console)",
            kind="faq",
            sha256=hashlib.sha256(content).hexdigest(),
            loaded=LoadedDocument(blocks=blocks),
        )
