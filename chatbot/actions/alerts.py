"""Webhooks, the owner's: where a bot's events are posted, signed; and what was delivered."""

from __future__ import annotations

from urllib.parse import urlsplit

from chatbot.inbox.alerts import EVENTS, new_secret
from chatbot.services import Services
from chatbot.store.accounts import Role
from chatbot.store.alerts import Delivery, Webhook
from knowledge.errors import KnowledgeError


class WebhookRefused(KnowledgeError):
    pass


def add_webhook(
    services: Services, actor: str, role: Role, bot: str, url: str, events: list[str]
) -> tuple[int, str]:
    """A webhook for `events` (all of them if none), and its signing secret, shown this once."""
    if role is not Role.OWNER:
        raise WebhookRefused("only an owner may add a webhook")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookRefused(f"{url!r} is not a web address like https://tools.shop.example/hook")
    if parts.username or parts.password:
        raise WebhookRefused("put no user name or password in the address: posts are signed")
    if len(url) > 2048:
        raise WebhookRefused("that address is longer than 2,048 characters")
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise WebhookRefused(f"no such event {unknown[0]!r}; the events are {', '.join(EVENTS)}")
    chosen = list(dict.fromkeys(events)) or list(EVENTS)
    secret = new_secret()
    hook_id = services.alerts.store.add_webhook(bot, url, chosen, secret, actor)
    services.audit.record(actor, "webhook.add", f"{bot}: {url}", ", ".join(chosen))
    return hook_id, secret


def remove_webhook(services: Services, actor: str, role: Role, bot: str, hook_id: int) -> None:
    if role is not Role.OWNER:
        raise WebhookRefused("only an owner may remove a webhook")
    if not services.alerts.store.remove_webhook(bot, hook_id):
        raise WebhookRefused(f"there is no webhook {hook_id} of {bot!r}")
    services.audit.record(actor, "webhook.remove", f"{bot}: #{hook_id}")


def webhooks_of(services: Services, bot: str) -> list[Webhook]:
    return services.alerts.store.webhooks(bot)


def deliveries_of(services: Services, bot: str, limit: int = 50) -> list[Delivery]:
    """The latest e-mails and webhook posts owed, with their state and last outcome."""
    return services.alerts.store.recent(bot, limit)
