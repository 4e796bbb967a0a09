"""What staff do to bots: create, change (profile fields), delete."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import Any

from chatbot.services import Services
from chatbot.settings import BotProfile
from chatbot.store.accounts import Role
from knowledge.errors import KnowledgeError

# What only an owner may change, with the words staff see: how long customers' conversations
# are kept and the notice they agree to (personal data, PDPA), answers shown without the
# extract's check and the model that writes them, and the websites that may show the chat.
# An editor keeps the bot's knowledge and its words (greeting, contact, hours, colours, limits).
OWNER_ONLY = {
    "retention_days": "how long conversations are kept",
    "privacy_notice": "the privacy notice",
    "answer_mode": "the answer mode",
    "model": "the chat model",
    "allowed_origins": "the websites that may show the chat",
    "handoff": "when and how customers are passed to a person",
}


class OwnersOnly(KnowledgeError):
    """A change only an owner may make; the message names what."""


def owner_only_fields(changes: dict[str, Any]) -> list[str]:
    """The owner's settings among `changes`, a section's keys included ("handoff.enabled")."""
    return [
        key
        for key in OWNER_ONLY
        if any(change == key or change.startswith(f"{key}.") for change in changes)
    ]


def _check_role(changes: dict[str, Any], role: Role) -> None:
    if role is not Role.OWNER and (keys := owner_only_fields(changes)):
        named = ", ".join(OWNER_ONLY[key] for key in keys)
        raise OwnersOnly(f"only an owner may change {named}; nothing was saved")


def name_for(title: str, taken: Collection[str]) -> str:
    """A bot's name made from the business's name as staff type it ("Kedai Runcit Ali" →
    "kedai-runcit-ali"), numbered when taken ("kedai-runcit-ali-2"); "bot" for a name with no
    Latin letters or digits ("阿里杂货店")."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:56].strip("-") or "bot"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def create_bot(
    services: Services, bot: str, changes: dict[str, Any], actor: str, role: Role
) -> BotProfile:
    _check_role(changes, role)
    profile = services.bots.create(bot, changes)
    services.audit.record(actor, "bot.create", bot, _describe(changes))
    return profile


def change_bot(
    services: Services, bot: str, changes: dict[str, Any], actor: str, role: Role
) -> BotProfile:
    """Change a bot's profile as `actor`, of `role` (the command line acts as an owner: it is
    run by whoever runs the server)."""
    _check_role(changes, role)
    profile = services.bots.update(bot, changes)
    services.audit.record(actor, "bot.change", bot, _describe(changes))
    return profile


def what_goes(services: Services, bot: str) -> str:
    """What deleting the bot removes, counted, for staff to read before they confirm."""
    counted = [
        (len(services.knowledge(bot).documents()), "document"),
        (len(services.websites.of_bot(bot)), "website it reads"),
        (services.personal_data.conversations_started(bot, 0), "customer conversation"),
        (len(services.leads.created_since(bot, 0)), "lead"),  # counted, none opened
        (len(services.pins.all(bot)), "pinned answer"),
        (services.test_questions.count(bot), "test question"),
    ]
    parts = [f"{n} {what if n == 1 else _plural(what)}" for n, what in counted if n]
    if services.whatsapp.store.channel(bot) is not None:
        parts.append("its WhatsApp number's connection")
    held = ", ".join(parts) or "nothing yet but its settings"
    return (
        f"Deleting **{bot}** removes for good: {held}, and its settings. The chat stops on"
        " every website that shows it. Export any customer's data you must keep first."
    )


def _plural(what: str) -> str:
    head, _, rest = what.partition(" ")
    return f"{head}s {rest}".rstrip()


def delete_bot(services: Services, bot: str, actor: str) -> None:
    services.delete_bot(bot)
    services.audit.record(actor, "bot.delete", bot)


def _describe(changes: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in changes.items())
