"""A customer's requests under the PDPA, as staff carry them out from the console or the
command line alike: find the customer's conversations, export them, erase them. Each act is
audited with whose conversations it touched (their ids; the contact typed is masked), so that
`chatbot audit report` can say whose data was seen, exported or erased, by whom."""

from __future__ import annotations

from typing import Any

from chatbot.privacy.records import ConversationRef, NotAContact
from chatbot.services import Services
from knowledge.errors import KnowledgeError


class NoSuchCustomer(KnowledgeError):
    """Nothing is held of the customer asked about."""


def _described(refs: list[ConversationRef]) -> str:
    return ", ".join(f"{r.bot}: {r.conversation_id}" for r in refs)


def find_customer(
    services: Services, actor: str, *, conversation: str | None = None, contact: str | None = None
) -> list[ConversationRef]:
    """The customer's conversations, by a conversation id or an e-mail address or phone."""
    if (conversation is None) == (contact is None):
        raise KnowledgeError("give either a conversation id or a contact (e-mail or phone)")
    try:
        refs = services.personal_data.find(conversation=conversation, contact=contact)
    except NotAContact as exc:
        raise KnowledgeError(str(exc)) from exc
    asked = f"conversation {conversation}" if conversation else f"contact {contact}"
    services.audit.record(actor, "privacy.find", asked, _described(refs) or "nothing held")
    if not refs:
        raise NoSuchCustomer(f"nothing is held of {asked}")
    return refs


def export_customer(services: Services, actor: str, refs: list[ConversationRef]) -> dict[str, Any]:
    """Everything held of these conversations, as one JSON document (access, portability)."""
    conversations = services.personal_data.export(refs)
    services.audit.record(actor, "privacy.export", _described(refs), f"{len(refs)} conversations")
    return {
        "format": "chatbot-personal-data/1",
        "note": "Identity-card, phone, card and passport numbers and e-mail addresses are"
        " masked in stored conversations; they are not held unmasked.",
        "conversations": conversations,
    }


def erase_customer(services: Services, actor: str, refs: list[ConversationRef]) -> int:
    """Erase these conversations for good (erasure); the rows deleted."""
    for ref in refs:
        services.live.drop(ref.conversation_id)
    removed = services.personal_data.erase(refs)
    services.audit.record(actor, "privacy.erase", _described(refs), f"{removed} rows")
    return removed
