"""What staff do to bots: create, change (profile fields), delete."""

from __future__ import annotations

from typing import Any

from chatbot.services import Services
from chatbot.settings import BotProfile


def create_bot(services: Services, bot: str, changes: dict[str, Any], actor: str) -> BotProfile:
    profile = services.bots.create(bot, changes)
    services.audit.record(actor, "bot.create", bot, _describe(changes))
    return profile


def change_bot(services: Services, bot: str, changes: dict[str, Any], actor: str) -> BotProfile:
    profile = services.bots.update(bot, changes)
    services.audit.record(actor, "bot.change", bot, _describe(changes))
    return profile


def delete_bot(services: Services, bot: str, actor: str) -> None:
    services.delete_bot(bot)
    services.audit.record(actor, "bot.delete", bot)


def _describe(changes: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in changes.items())
