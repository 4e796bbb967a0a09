"""A bot's WhatsApp number, the owner's to set: the number's id on Meta's Cloud API, the access
token, the app secret that signs Meta's webhooks, the verify token of the callback URL, and the
approved template that reaches a customer past the 24-hour window. Stored sealed; shown back
only by their last characters; never logged."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from chatbot.services import Services
from chatbot.store.accounts import Role
from chatbot.whatsapp.graph import GraphError
from knowledge.errors import KnowledgeError

_NUMBER_ID = re.compile(r"^[0-9]{5,32}$")
_TEMPLATE = re.compile(r"^[a-z0-9_]{1,512}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
_SECRET = re.compile(r"^[\x21-\x7e]{8,1024}$")  # printable, no spaces


class WhatsAppRefused(KnowledgeError):
    pass


@dataclass(frozen=True, slots=True)
class ChannelView:
    """What staff are shown of a channel: no secret whole."""

    bot: str
    phone_number_id: str
    access_token: str  # "…" and its last 4 characters
    app_secret: str
    verify_token: str
    template: str
    template_language: str
    problem: str
    webhook_path: str


def connect(
    services: Services,
    actor: str,
    role: Role,
    bot: str,
    *,
    phone_number_id: str,
    access_token: str,
    app_secret: str,
    verify_token: str = "",
    template: str = "",
    template_language: str = "en",
) -> str:
    """Set the bot's WhatsApp number (replacing any before); the verify token (made here when
    none is given), to paste into the Meta app with the callback URL."""
    if role is not Role.OWNER:
        raise WhatsAppRefused("only an owner may set a bot's WhatsApp number")
    phone_number_id, access_token = phone_number_id.strip(), access_token.strip()
    app_secret, verify_token = app_secret.strip(), verify_token.strip()
    template, template_language = template.strip(), template_language.strip() or "en"
    if not _NUMBER_ID.match(phone_number_id):
        raise WhatsAppRefused(
            "the phone number id is the number's id in the Meta app (digits, shown under API "
            "Setup), not the phone number itself"
        )
    for name, value in (("access token", access_token), ("app secret", app_secret)):
        if not _SECRET.match(value):
            raise WhatsAppRefused(f"the {name} is missing or not one (8 or more characters)")
    verify_token = verify_token or secrets.token_urlsafe(24)
    if not _SECRET.match(verify_token):
        raise WhatsAppRefused("the verify token needs 8 or more characters and no spaces")
    if template and not _TEMPLATE.match(template):
        raise WhatsAppRefused(
            "a template's name is as Meta shows it: lower-case letters, digits and _"
        )
    if template and not _LANGUAGE.match(template_language):
        raise WhatsAppRefused("the template's language is a code such as en, ms or zh_CN")
    owner = services.whatsapp.store.bot_of_number(phone_number_id)
    if owner is not None and owner != bot:
        raise WhatsAppRefused(f"that WhatsApp number is already the bot {owner!r}'s")
    secrets_ = {
        "access_token": access_token,
        "app_secret": app_secret,
        "verify_token": verify_token,
    }
    chosen = (template, template_language) if template else None
    services.whatsapp.store.connect(bot, phone_number_id, secrets_, chosen, actor)
    services.audit.record(actor, "whatsapp.connect", f"{bot}: number id {phone_number_id}")
    return verify_token


def disconnect(services: Services, actor: str, role: Role, bot: str) -> None:
    if role is not Role.OWNER:
        raise WhatsAppRefused("only an owner may remove a bot's WhatsApp number")
    if not services.whatsapp.store.disconnect(bot):
        raise WhatsAppRefused(f"the bot {bot!r} has no WhatsApp number")
    services.audit.record(actor, "whatsapp.disconnect", bot)


def view(services: Services, bot: str) -> ChannelView | None:
    channel = services.whatsapp.store.channel(bot)
    if channel is None:
        return None
    return ChannelView(
        bot,
        channel.phone_number_id,
        _hidden(channel.access_token),
        _hidden(channel.app_secret),
        _hidden(channel.verify_token),
        channel.template,
        channel.template_language,
        channel.problem,
        f"/webhooks/whatsapp/{bot}",
    )


def check(services: Services, bot: str) -> str:
    """Ask Meta whether the token opens the number; "" when it does, else why not (kept as
    the channel's problem, which the console and /readyz show)."""
    desk = services.whatsapp
    channel = desk.store.channel(bot)
    if channel is None:
        raise WhatsAppRefused(f"the bot {bot!r} has no WhatsApp number")
    try:
        desk.client(channel).check()
    except GraphError as exc:
        if exc.kind == "auth":
            desk.store.problem(bot, str(exc))
        return str(exc)
    desk.store.problem(bot, "")
    return ""


def _hidden(secret: str) -> str:
    return f"…{secret[-4:]}" if len(secret) >= 12 else "…"
