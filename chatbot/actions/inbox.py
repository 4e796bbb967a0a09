"""What staff do in the inbox: see who waits, open a conversation, take it over, reply, hand it
back to the bot, close it. Each is audited; opening one is a customer's personal data seen."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from chatbot.privacy.masking import mask
from chatbot.services import Services
from chatbot.store.inbox import NotInInbox, Standing, State
from chatbot.store.personal_data import ConversationRef
from chatbot.whatsapp.desk import OutsideWindow
from knowledge.errors import KnowledgeError

MAX_REPLY_CHARS = 4000
LIVE_S = 30 * 60  # a conversation with the bot is live for staff this long after its last turn


class NoSuchConversation(KnowledgeError):
    pass


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a conversation as staff read it."""

    at: float | None  # None: a turn of a conversation not kept, held in memory without times
    who: str  # customer | bot | staff | event
    name: str
    text: str


def inbox(services: Services, bot: str) -> list[Standing]:
    """The conversations to look at: waiting for a person, with a person, live with the bot."""
    return services.desk.store.queue(bot, time.time(), LIVE_S)


def read_conversation(
    services: Services, actor: str, ref: ConversationRef, *, audit: bool = True
) -> tuple[Standing | None, list[Entry]]:
    """Where a conversation stands and everything said in it, oldest first: the bot's turns
    (stored, or in memory for a conversation not kept) and what the customer and staff said.
    Opening it is audited; reading it again while open (`audit=False`) is not."""
    store = services.desk.store
    standing = store.standing(ref.bot, ref.conversation_id)
    entries: list[Entry] = []
    stored = services.conversations.transcript(ref.bot, ref.conversation_id)
    if stored:
        for turn in stored:
            entries.append(Entry(turn["at"], "customer", "", turn["question"]))
            entries.append(Entry(turn["at"], "bot", "", turn["answer"]))
    else:
        for question, answer in services.live.turns(ref.conversation_id) or []:
            entries.extend((Entry(None, "customer", "", question), Entry(None, "bot", "", answer)))
    for message in store.messages(ref.bot, ref.conversation_id):
        entries.append(Entry(message.at, message.author, message.name, message.text))
    if not entries and standing is None:
        raise NoSuchConversation(f"there is no conversation {ref.conversation_id} of {ref.bot!r}")
    entries.sort(key=lambda e: -1.0 if e.at is None else e.at)  # stable: each turn in order
    if audit:
        services.audit.record(actor, "conversation.open", f"{ref.bot}: {ref.conversation_id}")
    return standing, entries


def _shown_as(services: Services, bot: str, actor: str) -> str:
    """The staff member as the customer sees them: their name, or only as the team's."""
    if services.profile(bot).handoff.show_staff_as == "team" or actor.startswith("cli:"):
        return ""
    return actor


def take_over(services: Services, actor: str, ref: ConversationRef) -> None:
    try:
        shown = _shown_as(services, ref.bot, actor)
        if services.desk.store.take_over(ref.bot, ref.conversation_id, actor, shown):
            services.audit.record(actor, "inbox.take", f"{ref.bot}: {ref.conversation_id}")
    except NotInInbox as exc:
        raise NoSuchConversation(f"there is no conversation {exc} of {ref.bot!r}") from exc


def reply(services: Services, actor: str, ref: ConversationRef, text: str) -> None:
    """Staff's words to the customer; replying takes the conversation over."""
    text = text.strip()
    if not text:
        raise KnowledgeError("write a reply first")
    if len(text) > MAX_REPLY_CHARS:
        raise KnowledgeError(
            f"a reply is at most {MAX_REPLY_CHARS} characters; this one has {len(text)}"
        )
    shown = _shown_as(services, ref.bot, actor)
    whatsapp = services.whatsapp
    try:
        # A WhatsApp customer past the 24-hour window is refused here, before anything is
        # stored, unless the owner named a template to reach them with.
        on_whatsapp = whatsapp.staff_message(ref.bot, ref.conversation_id, text, shown)
    except OutsideWindow as exc:
        raise KnowledgeError(str(exc)) from exc
    try:
        services.desk.store.staff_reply(ref.bot, ref.conversation_id, actor, shown, text)
    except NotInInbox as exc:
        raise NoSuchConversation(f"there is no conversation {exc} of {ref.bot!r}") from exc
    if on_whatsapp is not None:
        whatsapp.send(ref.bot, on_whatsapp)
    services.audit.record(actor, "inbox.reply", f"{ref.bot}: {ref.conversation_id}")
    said = {
        "conversation": ref.conversation_id,
        "author": "staff",
        "staff": actor,
        "text": mask(text),
    }
    services.alerts.raise_(ref.bot, "message.created", said)


def hand_back(services: Services, actor: str, ref: ConversationRef) -> None:
    _move(services, actor, ref, State.BOT)


def close(services: Services, actor: str, ref: ConversationRef) -> None:
    _move(services, actor, ref, State.CLOSED)


def _move(services: Services, actor: str, ref: ConversationRef, state: State) -> None:
    store = services.desk.store
    try:
        if state is State.BOT:
            store.hand_back(ref.bot, ref.conversation_id)
        else:
            store.close(ref.bot, ref.conversation_id)
            services.personal_data.scrub()  # no copy left in SQLite's log of what went
    except NotInInbox as exc:
        raise NoSuchConversation(f"there is no conversation {exc} of {ref.bot!r}") from exc
    action = "inbox.hand_back" if state is State.BOT else "inbox.close"
    services.audit.record(actor, action, f"{ref.bot}: {ref.conversation_id}")
    if state is State.CLOSED:
        closed = {"conversation": ref.conversation_id, "by": actor}
        services.alerts.raise_(ref.bot, "conversation.closed", closed)


def standing_json(standing: Standing, now: float) -> dict[str, Any]:
    return {
        "conversation_id": standing.conversation_id,
        "state": standing.state.value,
        "reason": standing.reason,
        "staff": standing.staff,
        "waiting_s": round(now - standing.since) if standing.state is State.WAITING else None,
        "last_active": standing.updated_at,
        "kept": standing.keep,
    }
