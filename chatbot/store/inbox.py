"""Where each conversation stands (with the bot, waiting for a person, with a person, closed)
and what the customer and staff said to each other, as stored.

The state is read inside the transaction that settles a reply, never from a copy: a bot answer
is shown only if, at the moment it would be sent, no person has the conversation (two servers
included, since the row is in the database they share).

A conversation the customer chose not to keep is stored here only while a person is involved:
its messages go when staff close it, when it is erased, or at the purge once it has been idle
for a day (chatbot.store.personal_data).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, or_, select, update

from chatbot.privacy.masking import mask
from chatbot.store.outcomes import handed_to_person
from chatbot.store.schema import answers, conversation_states, inbox_messages


class State(StrEnum):
    BOT = "bot"
    WAITING = "waiting"  # for a person: the customer asked, or the bot could not help twice
    STAFF = "staff"  # a person has it: the bot is silent
    CLOSED = "closed"  # staff closed it; the customer's next message starts with the bot again


class Reply(StrEnum):
    """What becomes of the bot's reply, decided when it would be sent."""

    SHOWN = "shown"
    HANDED_OFF = "handed_off"  # shown, and the conversation now waits for a person
    STILL_WAITING = "still_waiting"  # shown; the customer asked again for the person awaited
    WHILE_WAITING = "while_waiting"  # shown: the bot helps while a person is awaited
    WITHHELD = "withheld"  # a person took the conversation over while the bot was answering


@dataclass(frozen=True, slots=True)
class Standing:
    bot: str
    conversation_id: str
    state: State
    reason: str  # asked | missed | staff: why it left the bot
    staff: str | None
    since: float
    updated_at: float
    keep: bool
    misses: int = 0  # the bot's unanswered questions running


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    at: float
    author: str  # customer | staff | event
    name: str  # the staff member as the customer sees them ("" shows their role)
    text: str  # a customer's or staff member's words; for an event: joined | handed_back | closed

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "author": self.author,
            "name": self.name,
            "text": self.text,
        }


class NotInInbox(LookupError):
    """No such conversation of this bot."""


class InboxStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- reading ----------------------------------------------------------------------------
    def standing(self, bot: str, conversation_id: str) -> Standing | None:
        with self._engine.connect() as db:
            return _standing(db, bot, conversation_id)

    def messages(self, bot: str, conversation_id: str, after: int = 0) -> list[Message]:
        query = (
            select(
                inbox_messages.c.id,
                inbox_messages.c.at,
                inbox_messages.c.author,
                inbox_messages.c.name,
                inbox_messages.c.text,
            )
            .where(
                inbox_messages.c.bot == bot,
                inbox_messages.c.conversation_id == conversation_id,
                inbox_messages.c.id > after,
            )
            .order_by(inbox_messages.c.id)
        )
        with self._engine.connect() as db:
            return [Message(*row) for row in db.execute(query)]

    def queue(self, bot: str, now: float, live_s: float) -> list[Standing]:
        """The bot's conversations staff should see: waiting for a person (longest waiting
        first), then those a person has, then those with the bot that were active in the last
        `live_s` seconds (kept ones: the others are not stored), newest first."""
        states = conversation_states.c
        with self._engine.connect() as db:
            rows = db.execute(
                select(conversation_states).where(
                    states.bot == bot,
                    or_(
                        states.state.in_([State.WAITING, State.STAFF]),
                        states.updated_at >= now - live_s,  # closed ones too: not re-listed
                    ),
                )
            ).mappings()
            held = [_as_standing(row) for row in rows]
            known = {s.conversation_id for s in held}
            recent = db.execute(
                select(answers.c.conversation_id, func.max(answers.c.created_at))
                .where(answers.c.bot == bot, answers.c.created_at >= now - live_s)
                .group_by(answers.c.conversation_id)
            ).all()
        for conversation_id, at in recent:
            if conversation_id not in known:
                held.append(Standing(bot, conversation_id, State.BOT, "", None, at, at, keep=True))
        order = {State.WAITING: 0, State.STAFF: 1, State.BOT: 2}
        return sorted(
            (s for s in held if s.state in order),
            key=lambda s: (order[s.state], s.since if s.state is State.WAITING else -s.updated_at),
        )

    def last_words(self, bot: str, conversation_ids: list[str]) -> dict[str, str]:
        """The customer's latest message in each conversation (as kept: masked), to tell
        conversations apart in a list."""
        words: dict[str, tuple[float, str]] = {}
        a, m = answers.c, inbox_messages.c
        latest_turns = (
            select(func.max(a.id))
            .where(a.bot == bot, a.conversation_id.in_(conversation_ids), a.kind != "smalltalk")
            .group_by(a.conversation_id)
        )
        latest_said = (
            select(func.max(m.id))
            .where(m.bot == bot, m.conversation_id.in_(conversation_ids), m.author == "customer")
            .group_by(m.conversation_id)
        )
        with self._engine.connect() as db:
            turns = select(a.conversation_id, a.created_at, a.question).where(
                a.id.in_(latest_turns)
            )
            said = select(m.conversation_id, m.at, m.text).where(m.id.in_(latest_said))
            for conversation_id, at, text in [*db.execute(turns), *db.execute(said)]:
                if conversation_id not in words or words[conversation_id][0] < at:
                    words[conversation_id] = (at, text)
        return {conversation_id: text for conversation_id, (_, text) in words.items()}

    def first_replies(self, bot: str, since: float) -> list[float]:
        """For each wait for a person since a time that a person answered: how long it was,
        in seconds. (How many conversations were handed over is the outcomes' count.)"""
        m = inbox_messages.c
        query = (
            select(m.conversation_id, m.at, m.author, m.text)
            .where(m.bot == bot, m.at >= since, m.author.in_(["event", "staff"]))
            .order_by(m.conversation_id, m.id)
        )
        waits: list[float] = []
        waiting_since: dict[str, float] = {}
        with self._engine.connect() as db:
            for conversation_id, at, author, text in db.execute(query):
                if author == "event" and text == "waiting":
                    waiting_since[conversation_id] = at
                elif author == "staff" and conversation_id in waiting_since:
                    waits.append(at - waiting_since.pop(conversation_id))
        return waits

    # -- the customer's side ----------------------------------------------------------------
    def relay(self, bot: str, conversation_id: str, text: str, spare: frozenset[str]) -> str | None:
        """Keep the customer's message for the person who has the conversation, masked; what
        was kept, or None (nothing kept) when no person has it and the bot answers."""
        with self._engine.begin() as db:
            standing = _standing(db, bot, conversation_id, lock=True)
            if standing is None or standing.state is not State.STAFF:
                return None
            kept = mask(text, spare)
            _add(db, bot, conversation_id, "customer", "", kept)
        return kept

    def settle(
        self,
        bot: str,
        conversation_id: str,
        keep: bool,
        *,
        answered: bool,
        asked_for_person: bool,
        hand_off_after_misses: int,
    ) -> Reply:
        """What becomes of the bot's reply, decided as it would be sent: withheld when a person
        has the conversation; handed off (to a person) when the customer asked for one or the
        bot has now not answered `hand_off_after_misses` questions running (0: never)."""
        now = time.time()
        with self._engine.begin() as db:
            standing = _standing(db, bot, conversation_id, lock=True)
            state = standing.state if standing else State.BOT
            if state is State.STAFF:
                return Reply.WITHHELD
            running = standing.misses if standing else 0
            misses = 0 if answered or asked_for_person else running + 1
            missed_enough = hand_off_after_misses > 0 and misses >= hand_off_after_misses
            if state is State.WAITING and asked_for_person:
                return Reply.STILL_WAITING
            to_person = state is not State.WAITING and (asked_for_person or missed_enough)
            values: dict[str, Any] = {"misses": misses, "updated_at": now}
            if to_person:
                reason = "asked" if asked_for_person else "missed"
                values |= {"state": State.WAITING, "reason": reason, "since": now, "staff": None}
            elif state is State.CLOSED:
                values |= {"state": State.BOT, "reason": "", "since": now, "staff": None}
            if standing is None and not (to_person or misses):
                return Reply.SHOWN  # a conversation with the bot, as most are: no row
            _put(db, bot, conversation_id, keep, values, now)
            if to_person:  # when it began waiting: the time to a person's reply runs from here
                _add(db, bot, conversation_id, "event", "", "waiting")
                handed_to_person(db, conversation_id)
        if to_person:
            return Reply.HANDED_OFF
        return Reply.WHILE_WAITING if state is State.WAITING else Reply.SHOWN

    def note(self, bot: str, conversation_id: str, event: str) -> None:
        """Something that happened, for staff reading the conversation ("lead": the customer
        left contact details for a call back)."""
        with self._engine.begin() as db:
            _add(db, bot, conversation_id, "event", "", event)

    # -- staff's side -----------------------------------------------------------------------
    def take_over(self, bot: str, conversation_id: str, staff: str, shown_as: str) -> bool:
        """A person has the conversation from now; False if they already had it."""
        now = time.time()
        with self._engine.begin() as db:
            standing = self._known(db, bot, conversation_id)
            if standing.state is State.STAFF and standing.staff == staff:
                return False
            values = {"state": State.STAFF, "staff": staff, "since": now, "updated_at": now}
            if standing.state is State.BOT or standing.reason == "":
                values["reason"] = "staff"
            _put(db, bot, conversation_id, standing.keep, values, now)
            _add(db, bot, conversation_id, "event", shown_as, "joined")
            handed_to_person(db, conversation_id)
        return True

    def staff_reply(
        self, bot: str, conversation_id: str, staff: str, shown_as: str, text: str
    ) -> None:
        """Staff's reply to the customer; replying takes the conversation over."""
        self.take_over(bot, conversation_id, staff, shown_as)
        with self._engine.begin() as db:
            _add(db, bot, conversation_id, "staff", shown_as, text.strip())
            db.execute(
                update(conversation_states)
                .where(conversation_states.c.conversation_id == conversation_id)
                .values(updated_at=time.time())
            )

    def hand_back(self, bot: str, conversation_id: str) -> None:
        """The bot answers again."""
        self._move(bot, conversation_id, State.BOT, "handed_back")

    def close(self, bot: str, conversation_id: str) -> None:
        """Done with; what was said stays (a kept conversation) or goes (one not kept)."""
        if not self._move(bot, conversation_id, State.CLOSED, "closed"):
            self.erase(bot, conversation_id)

    def _move(self, bot: str, conversation_id: str, state: State, event: str) -> bool:
        """Put the conversation in `state`, noted as `event`; whether the customer keeps it."""
        now = time.time()
        with self._engine.begin() as db:
            standing = self._known(db, bot, conversation_id)
            values = {"state": state, "staff": None, "since": now, "updated_at": now, "misses": 0}
            _put(db, bot, conversation_id, standing.keep, values, now)
            _add(db, bot, conversation_id, "event", "", event)
        return standing.keep

    def _known(self, db: Connection, bot: str, conversation_id: str) -> Standing:
        """The conversation's standing; one with the bot that has no row yet is given one
        (kept: it is in the answers staff opened it from)."""
        standing = _standing(db, bot, conversation_id, lock=True)
        if standing is not None:
            return standing
        has_answers = db.execute(
            select(answers.c.id)
            .where(answers.c.bot == bot, answers.c.conversation_id == conversation_id)
            .limit(1)
        ).first()
        if has_answers is None:
            raise NotInInbox(conversation_id)
        now = time.time()
        return Standing(bot, conversation_id, State.BOT, "", None, now, now, keep=True)

    # -- privacy ----------------------------------------------------------------------------
    def erase(self, bot: str, conversation_id: str) -> int:
        """Everything said and where it stood (as if it never left the bot); the rows removed."""
        removed = 0
        with self._engine.begin() as db:
            for table in (inbox_messages, conversation_states):
                removed += db.execute(
                    delete(table).where(
                        table.c.bot == bot, table.c.conversation_id == conversation_id
                    )
                ).rowcount
        return removed


def _standing(
    db: Connection, bot: str, conversation_id: str, lock: bool = False
) -> Standing | None:
    query = select(conversation_states).where(
        conversation_states.c.bot == bot, conversation_states.c.conversation_id == conversation_id
    )
    if lock:  # PostgreSQL: a take-over and a settling reply wait for each other
        query = query.with_for_update()
    row = db.execute(query).mappings().first()
    return None if row is None else _as_standing(row)


def _as_standing(row: Any) -> Standing:
    return Standing(
        row["bot"],
        row["conversation_id"],
        State(row["state"]),
        row["reason"],
        row["staff"],
        row["since"],
        row["updated_at"],
        bool(row["keep"]),
        row["misses"],
    )


def _put(
    db: Connection, bot: str, conversation_id: str, keep: bool, values: dict[str, Any], now: float
) -> None:
    changed = db.execute(
        update(conversation_states)
        .where(conversation_states.c.conversation_id == conversation_id)
        .values(**values)
    ).rowcount
    if not changed:
        row = {
            "state": State.BOT,
            "reason": "",
            "staff": None,
            "misses": 0,
            "since": now,
            "updated_at": now,
            **values,
        }
        db.execute(
            insert(conversation_states).values(
                conversation_id=conversation_id, bot=bot, keep=keep, **row
            )
        )


def _add(db: Connection, bot: str, conversation_id: str, author: str, name: str, text: str) -> None:
    db.execute(
        insert(inbox_messages).values(
            bot=bot,
            conversation_id=conversation_id,
            at=time.time(),
            author=author,
            name=name,
            text=text,
        )
    )
