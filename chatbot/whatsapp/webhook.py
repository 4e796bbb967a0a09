"""What Meta posts to the webhook, checked and read: its signature, then the messages and
delivery receipts in it, each as a typed value. Anything else in the payload (other fields,
another number's changes) is passed over, never an error: Meta does not resend what we answered
200 to, and a payload we cannot use must not be retried for a week."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

# What the bot reads; every other type (audio, image, video, sticker, location, document,
# contacts, reaction, order, unsupported) is answered politely and shown to staff.
READABLE = ("text", "button", "interactive")


@dataclass(frozen=True, slots=True)
class Incoming:
    number: str  # the customer's WhatsApp id: their number in international form, digits
    wamid: str
    at: float
    kind: str  # text | reply (a button pressed) | audio | image | … (what Meta calls it)
    text: str = ""  # what they wrote, or the button's title
    reply_id: str = ""  # the id of the button pressed
    name: str = ""  # their WhatsApp profile name


@dataclass(frozen=True, slots=True)
class Receipt:
    wamid: str
    status: str  # sent | delivered | read | failed
    errors: list[str] = field(default_factory=list)


def signed(body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body with the app secret
    (compared in constant time)."""
    if not header or not header.startswith("sha256=") or not app_secret:
        return False
    want = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, header.removeprefix("sha256=").strip().lower())


def read_payload(payload: Any, phone_number_id: str) -> tuple[list[Incoming], list[Receipt]]:
    """The messages and receipts of the bot's number in a webhook's payload."""
    messages: list[Incoming] = []
    receipts: list[Receipt] = []
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return messages, receipts
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field") != "messages":
                continue
            metadata = value.get("metadata")
            if not isinstance(metadata, dict) or str(metadata.get("phone_number_id")) != str(
                phone_number_id
            ):
                continue
            names = {
                str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")
                for c in _list(value.get("contacts"))
                if isinstance(c, dict)
            }
            for message in _list(value.get("messages")):
                incoming = _incoming(message, names)
                if incoming is not None:
                    messages.append(incoming)
            for status in _list(value.get("statuses")):
                if isinstance(status, dict) and status.get("id") and status.get("status"):
                    errors = [
                        f"{e.get('code')}: {e.get('title') or e.get('message') or ''}".strip()
                        for e in _list(status.get("errors"))
                        if isinstance(e, dict)
                    ]
                    receipts.append(Receipt(str(status["id"]), str(status["status"]), errors))
    return messages, receipts


def _incoming(message: Any, names: dict[str, str]) -> Incoming | None:
    if not isinstance(message, dict):
        return None
    number, wamid, kind = message.get("from"), message.get("id"), message.get("type")
    if not (isinstance(number, str) and number.isdigit() and isinstance(wamid, str) and kind):
        return None
    try:
        at = float(message.get("timestamp") or 0)
    except (TypeError, ValueError):
        at = 0.0
    kind = str(kind)
    name = names.get(number, "")
    if kind == "text":
        body = (message.get("text") or {}).get("body")
        return Incoming(number, wamid, at, "text", str(body or ""), name=name)
    if kind == "button":  # a template's quick-reply button
        button = message.get("button") or {}
        title = str(button.get("text") or "")
        return Incoming(number, wamid, at, "reply", title, str(button.get("payload") or ""), name)
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        chosen = interactive.get("button_reply") or interactive.get("list_reply") or {}
        if isinstance(chosen, dict) and chosen.get("id"):
            return Incoming(
                number, wamid, at, "reply", str(chosen.get("title") or ""), str(chosen["id"]), name
            )
    return Incoming(number, wamid, at, kind[:24], name=name)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
