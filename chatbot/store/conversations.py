"""Every answer the bot gives, with what produced it: sources, model, prompt name and version.

Kept in the application database (store/) so staff can review what the bot told customers and
why, and so that a conversation can be continued and shown again; only for conversations the
customer agreed to keep, with personal data masked, until the bot's retention period ends
(privacy/).
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from chatbot.answering.result import Answer
from chatbot.privacy.masking import mask
from chatbot.store.database import inserted_id
from chatbot.store.schema import answers


class ConversationLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(
        self, bot: str, conversation_id: str, answer: Answer, spare: Collection[str] = ()
    ) -> int:
        """Store an answer, its personal data masked (but for the business's own contacts,
        `spare`); its id, by which the customer may rate it."""
        with self._engine.begin() as db:
            result = db.execute(
                insert(answers).values(
                    bot=bot,
                    conversation_id=conversation_id,
                    created_at=time.time(),
                    question=mask(answer.question),
                    answer=mask(answer.text, spare),
                    answered=answer.answered,
                    fallback=answer.fallback,
                    kind=answer.kind,
                    guard_reason=mask(answer.guard_reason, spare),
                    language=answer.language,
                    sources=json.dumps([s.as_json() for s in answer.sources], ensure_ascii=False),
                    model=answer.model,
                    prompt=answer.prompt,
                    timings=json.dumps(answer.timings_ms),
                )
            )
        return inserted_id(result)

    def rate(self, bot: str, conversation_id: str, answer_id: int, rating: int | None) -> bool:
        """Record a customer's rating of one answer of their own conversation."""
        query = (
            update(answers)
            .where(
                answers.c.id == answer_id,
                answers.c.bot == bot,
                answers.c.conversation_id == conversation_id,
            )
            .values(rating=rating, rated_at=time.time())
        )
        with self._engine.begin() as db:
            return bool(db.execute(query).rowcount)

    def turns(self, bot: str, conversation_id: str) -> list[tuple[str, str]]:
        """(question, answer) of each turn of one bot's conversation, oldest first."""
        query = (
            select(answers.c.question, answers.c.answer)
            .where(answers.c.bot == bot, answers.c.conversation_id == conversation_id)
            .order_by(answers.c.id)
        )
        with self._engine.connect() as db:
            return [(q, a) for q, a in db.execute(query)]

    def transcript(self, bot: str, conversation_id: str) -> list[dict[str, Any]]:
        """What the customer saw of a conversation: questions, answers and their sources."""
        query = (
            select(
                answers.c.id,
                answers.c.question,
                answers.c.answer,
                answers.c.answered,
                answers.c.language,
                answers.c.sources,
                answers.c.rating,
                answers.c.created_at.label("at"),
            )
            .where(answers.c.bot == bot, answers.c.conversation_id == conversation_id)
            .order_by(answers.c.id)
        )
        with self._engine.connect() as db:
            rows = db.execute(query).mappings().all()
        return [{**row, "answered": bool(row["answered"]), "sources": _json(row)} for row in rows]

    def recent(
        self,
        bot: str,
        *,
        answered: bool | None = None,
        rated_down: bool = False,
        since: float = 0.0,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """The latest answers of a bot, newest first; only (not) answered ones, or only those
        the customer rated down, if asked."""
        query = select(
            answers.c.created_at,
            answers.c.conversation_id,
            answers.c.question,
            answers.c.answered,
            answers.c.kind,
            answers.c.fallback,
            answers.c.sources,
            answers.c.rating,
        ).where(answers.c.bot == bot, answers.c.created_at >= since)
        if answered is not None:
            query = query.where(answers.c.answered.is_(answered))
        if rated_down:
            query = query.where(answers.c.rating == -1)
        with self._engine.connect() as db:
            rows = db.execute(query.order_by(answers.c.id.desc()).limit(limit)).mappings().all()
        return [{**row, "sources": _json(row)} for row in rows]

    def gaps(self, bot: str, limit: int = 1000) -> list[dict[str, Any]]:
        """The latest questions the bot could not answer, with their conversations. (Answers
        customers rated down are in the review's "rated down" filter: they were answered.)"""
        query = (
            select(
                answers.c.question,
                answers.c.answered,
                answers.c.rating,
                answers.c.created_at,
                answers.c.conversation_id,
            )
            .where(answers.c.bot == bot)
            .where(answers.c.answered.is_(False))
            # A greeting or a thanks is no gap in the documents.
            .where(answers.c.kind != "smalltalk")
            .order_by(answers.c.id.desc())
            .limit(limit)
        )
        with self._engine.connect() as db:
            return [dict(row) for row in db.execute(query).mappings()]

    def since(self, bot: str, since: float) -> list[dict[str, Any]]:
        """Every answer of a bot since a time (question, answered, rating, created_at)."""
        query = (
            select(
                answers.c.question,
                answers.c.answered,
                answers.c.kind,
                answers.c.rating,
                answers.c.created_at,
            )
            .where(answers.c.bot == bot, answers.c.created_at >= since)
            .order_by(answers.c.id)
        )
        with self._engine.connect() as db:
            return [dict(row) for row in db.execute(query).mappings()]

    def first_questions(self, bot: str, conversation_ids: Collection[str]) -> dict[str, str]:
        """The first question (not a greeting or thanks) of each of these conversations that
        was kept, masked as stored."""
        wanted = list(conversation_ids)
        found: dict[str, str] = {}
        with self._engine.connect() as db:
            for start in range(0, len(wanted), 500):  # a bounded IN list on any database
                query = (
                    select(answers.c.conversation_id, answers.c.question)
                    .where(
                        answers.c.bot == bot,
                        answers.c.conversation_id.in_(wanted[start : start + 500]),
                        answers.c.kind != "smalltalk",
                    )
                    .order_by(answers.c.id)
                )
                for conversation_id, question in db.execute(query):
                    found.setdefault(conversation_id, question)
        return found

    def delete_bot(self, bot: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(answers).where(answers.c.bot == bot))


def _json(row: Any) -> Any:
    return json.loads(row["sources"])
