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
    callback_url: str


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
    """Set the bot's WhatsApp number; the verify token, to paste into the Meta app with the
    callback URL. A secret left empty keeps the one set before (changing the template needs no
    token typed again, and the verify token stays what Meta was given); a verify token is made
    here when the bot has none."""
    if role is not Role.OWNER:
        raise WhatsAppRefused("only an owner may set a bot's WhatsApp number")
    before = services.whatsapp.store.channel(bot)
    phone_number_id = phone_number_id.strip() or (before.phone_number_id if before else "")
    access_token = access_token.strip() or (before.access_token if before else "")
    app_secret = app_secret.strip() or (before.app_secret if before else "")
    verify_token = verify_token.strip() or (before.verify_token if before else "")
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
        callback_url(services, bot),
    )


@dataclass(frozen=True, slots=True)
class Checked:
    ok: bool
    said: str  # "Meta accepts the access token for +60 4-261 8833." or what Meta refused


def check(services: Services, bot: str) -> Checked:
    """Ask Meta whether the token opens the number; a refused token is kept as the channel's
    problem, which the console and /readyz show, until a call goes through."""
    desk = services.whatsapp
    channel = desk.store.channel(bot)
    if channel is None:
        raise WhatsAppRefused(f"the bot {bot!r} has no WhatsApp number")
    try:
        number = desk.client(channel).check()
    except GraphError as exc:
        if exc.kind == "auth":
            desk.store.problem(bot, str(exc))
        return Checked(False, f"{exc}.")
    desk.store.problem(bot, "")
    return Checked(True, f"Meta accepts the access token for {number or 'the number'}.")


def callback_url(services: Services, bot: str) -> str:
    """The address to give Meta: the console's public address where the deployment set it
    (`alerts.console_url`), else a pattern to fill in. Meta calls https addresses only."""
    public = services.settings.alerts.console_url.rstrip("/")
    if public.startswith("https://"):
        return f"{public}/webhooks/whatsapp/{bot}"
    return f"https://<your server's public address>/webhooks/whatsapp/{bot}"


def _hidden(secret: str) -> str:
    return f"…{secret[-4:]}" if len(secret) >= 12 else "…"
