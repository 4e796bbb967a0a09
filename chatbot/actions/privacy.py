"""Customers' personal data under the PDPA: staff carry out a customer's requests (find their
conversations, export them, erase them), open a transcript; a customer erases their own
conversation; the retention purge deletes what is past its bot's retention period, on a
schedule while the server runs and on demand (`chatbot privacy purge`). Each act is audited with
whose conversations it touched (their ids; the contact typed is masked), so that
`chatbot audit report` can say whose data was seen, exported or erased, by whom."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict
from typing import Any

from chatbot.services import Services
from chatbot.settings import BotProfile
from chatbot.store.personal_data import ConversationRef, NotAContact, conversation_key, iso
from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)


class NoSuchCustomer(KnowledgeError):
    """Nothing is held of the customer asked about."""


def _described(refs: list[ConversationRef]) -> str:
    return ", ".join(f"{r.bot}: {r.conversation_id}" for r in refs)


def find_customer(
    services: Services,
    actor: str,
    *,
    conversation: str | None = None,
    contact: str | None = None,
    bots: frozenset[str] | None = None,
) -> list[ConversationRef]:
    """The customer's conversations, by a conversation id or an e-mail address or phone; of
    these `bots` only when given (a shop's staff see their own shops' customers only)."""
    if (conversation is None) == (contact is None):
        raise KnowledgeError("give either a conversation id or a contact (e-mail or phone)")
    try:
        refs = services.personal_data.find(conversation=conversation, contact=contact)
        if conversation and not refs:
            # The id the customer's own browser holds (they may send it with their request):
            # found by its key, and only the key goes on record.
            key = conversation_key(conversation.strip().lower())
            if refs := services.personal_data.find(conversation=key):
                conversation = key
    except NotAContact as exc:
        raise KnowledgeError(str(exc)) from exc
    if bots is not None:
        refs = [r for r in refs if r.bot in bots]
    asked = f"conversation {conversation}" if conversation else f"contact {contact}"
    services.audit.record(actor, "privacy.find", asked, _described(refs) or "nothing held")
    if not refs:
        raise NoSuchCustomer(f"nothing is held of {asked}")
    return refs


def export_customer(services: Services, actor: str, refs: list[ConversationRef]) -> dict[str, Any]:
    """Everything held of these conversations, as one JSON document (access, portability)."""
    conversations = services.personal_data.export(refs)
    for conversation in conversations:  # what they left for a call back, readable: it is theirs
        conversation["leads"] = [
            {
                "at": iso(lead.created_at),
                "status": lead.status.value,
                **(asdict(lead.details) if lead.details else {}),
            }
            for lead in services.leads.of_conversation(
                conversation["bot"], conversation["conversation_id"]
            )
        ]
    services.audit.record(actor, "privacy.export", _described(refs), f"{len(refs)} conversations")
    return {
        "format": "chatbot-personal-data/1",
        "note": "Identity-card, phone, card and passport numbers and e-mail addresses are"
        " masked in stored conversations; they are not held unmasked.",
        "conversations": conversations,
    }


def _erase(services: Services, refs: list[ConversationRef]) -> int:
    for ref in refs:
        services.live.drop(ref.conversation_id)
    return services.personal_data.erase(refs)


def erase_customer(services: Services, actor: str, refs: list[ConversationRef]) -> int:
    """Erase these conversations for good (erasure); the rows deleted."""
    removed = _erase(services, refs)
    services.audit.record(actor, "privacy.erase", _described(refs), f"{removed} rows")
    return removed


def erase_own_conversation(services: Services, ref: ConversationRef) -> None:
    """The customer deletes their own conversation (from the chat: knowing its id is the proof)."""
    _erase(services, [ref])
    services.audit.record("customer", "conversation.erase", _described([ref]))


def open_transcript(services: Services, actor: str, ref: ConversationRef) -> list[dict[str, Any]]:
    """A conversation's turns, for an owner; empty when there is none. Opening one is audited:
    it is a customer's personal data seen."""
    turns = services.conversations.transcript(ref.bot, ref.conversation_id)
    if turns:
        services.audit.record(actor, "conversation.open", _described([ref]))
    return turns


def purge_expired(services: Services, actor: str, now: float | None = None) -> int:
    """Run the retention purge once: conversations, ratings and consents older than their
    bot's retention_days are deleted; the rows deleted."""
    now = time.time() if now is None else now
    days = {bot: services.profile(bot).retention_days for bot in services.bots.names()}
    removed = services.personal_data.purge(days, BotProfile().retention_days, now)
    services.live.forget_idle()
    detail = ", ".join(f"{bot}: {d} days" for bot, d in sorted(days.items()))
    services.audit.record(actor, "privacy.purge", f"{removed} rows", detail)
    return removed


class PurgeSchedule:
    """Runs the purge every `every_s` seconds in a daemon thread while the server runs."""

    def __init__(self, services: Services, every_s: float) -> None:
        self._services, self._every_s = services, every_s
        self._thread = threading.Thread(target=self._run, name="retention-purge", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while True:  # first at start-up: a server that was down may be late
            try:
                purge_expired(self._services, "system:retention")
            except Exception:  # keep the schedule alive; the next run tries again
                log.exception("the retention purge failed")
            time.sleep(self._every_s)  # a daemon thread: it ends with the process
