"""What became of each conversation, noted as it goes: how many questions the bot answered,
whether the latest was answered, whether the customer asked for (or was given) a person, said
thanks after an answer, rated an answer or the conversation. Counts and flags only, with no
words of the customer's, so that every conversation counts in the outcomes, kept or not
(chatbot/inbox/outcomes.py says what they mean). Erased with the conversation and purged with
its bot's retention period (store/personal_data.py)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from chatbot.store.schema import conversation_outcomes as outcomes


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    conversation_id: str
    channel: str
    language: str
    started_at: float
    last_at: float
    questions: int
    answered: int
    last_answered: bool
    person: bool
    thanked: bool
    rating: int | None
    csat: int | None


class OutcomeLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def note(
        self,
        bot: str,
        conversation_id: str,
        channel: str,
        language: str,
        *,
        question: bool,
        answered: bool = False,
        thanks: bool = False,
        person: bool = False,
    ) -> OutcomeRow:
        """One message of the customer's and the bot's reply: a question (answered or not), or
        small talk (`thanks`; `person`: they asked for one). The conversation as it now stands."""
        now = time.time()
        for _ in range(2):  # a second try when another server began the row at the same time
            try:
                with self._engine.begin() as db:
                    return _noted(
                        db, _row(db, conversation_id, lock=True), now,
                        bot, conversation_id, channel, language,
                        question=question, answered=answered, thanks=thanks, person=person,
                    )  # fmt: skip
            except IntegrityError:
                continue
        raise RuntimeError(f"conversation {conversation_id} could not be noted")

    def rated(self, bot: str, conversation_id: str, rating: int | None) -> None:
        """The customer's thumbs on an answer (the latest counts)."""
        self._set(bot, conversation_id, rating=rating)

    def feedback(self, bot: str, conversation_id: str, score: int) -> bool:
        """The customer's rating of the whole conversation, 1 to 5; False when the bot has no
        such conversation (nothing was asked in it)."""
        return self._set(bot, conversation_id, csat=score)

    def _set(self, bot: str, conversation_id: str, **values: Any) -> bool:
        query = (
            update(outcomes)
            .where(outcomes.c.bot == bot, outcomes.c.conversation_id == conversation_id)
            .values(**values)
        )
        with self._engine.begin() as db:
            return bool(db.execute(query).rowcount)

    def since(self, bot: str, since: float) -> list[OutcomeRow]:
        """The bot's conversations begun since a time, oldest first."""
        query = (
            select(*_COLUMNS)
            .where(outcomes.c.bot == bot, outcomes.c.started_at >= since)
            .order_by(outcomes.c.started_at)
        )
        with self._engine.connect() as db:
            return [_outcome(r) for r in db.execute(query).mappings()]


def _noted(
    db: Connection,
    row: OutcomeRow | None,
    now: float,
    bot: str,
    conversation_id: str,
    channel: str,
    language: str,
    *,
    question: bool,
    answered: bool,
    thanks: bool,
    person: bool,
) -> OutcomeRow:
    """The conversation's row after this message, written: begun if new (the insert fails
    when another server began it meanwhile), else updated. Worked out here, not read back."""
    begun = row is None
    if row is None:
        row = OutcomeRow(
            conversation_id, channel, language, now, now, 0, 0, False, False, False, None, None
        )
    changed: dict[str, Any] = {"last_at": now, "person": row.person or person}
    if question:
        changed |= {
            "questions": row.questions + 1,
            "answered": row.answered + answered,
            "last_answered": answered,
        }
        if row.questions == 0:  # the language of the first question, not of "hi"
            changed["language"] = language
    # Thanks count for the answer they follow, not for "I don't know".
    if thanks and row.last_answered:
        changed["thanked"] = True
    now_row = replace(row, **changed)
    if begun:
        db.execute(insert(outcomes).values(bot=bot, **asdict(now_row)))
    else:
        db.execute(
            update(outcomes).where(outcomes.c.conversation_id == conversation_id).values(**changed)
        )
    return now_row


def handed_to_person(db: Connection, conversation_id: str) -> None:
    """A person was asked for or took the conversation over: noted in the inbox's own
    transaction (store/inbox.py), whichever channel or console view did it."""
    db.execute(
        update(outcomes).where(outcomes.c.conversation_id == conversation_id).values(person=True)
    )


_COLUMNS = [c for c in outcomes.c if c.name != "bot"]


def _row(db: Connection, conversation_id: str, *, lock: bool = False) -> OutcomeRow | None:
    query = select(*_COLUMNS).where(outcomes.c.conversation_id == conversation_id)
    if lock and db.dialect.name == "postgresql":
        query = query.with_for_update()
    found = db.execute(query).mappings().one_or_none()
    return None if found is None else _outcome(found)


def _outcome(row: Any) -> OutcomeRow:
    return OutcomeRow(
        conversation_id=row["conversation_id"],
        channel=row["channel"],
        language=row["language"],
        started_at=row["started_at"],
        last_at=row["last_at"],
        questions=row["questions"],
        answered=row["answered"],
        last_answered=bool(row["last_answered"]),
        person=bool(row["person"]),
        thanked=bool(row["thanked"]),
        rating=row["rating"],
        csat=row["csat"],
    )
