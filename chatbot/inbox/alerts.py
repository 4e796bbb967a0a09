"""Staff told of what needs them: a customer waiting for a person, a new lead, a conversation
closed, a message in a conversation a person has. Each becomes deliveries in the outbox
(store/alerts.py): an e-mail to the bot's staff (`handoff.email_to`, for a waiting customer and
a lead) through the business's SMTP server, and a post to each webhook that asked for the
event. Every server drains the outbox every `alerts.check_s`; a failed delivery is retried
after `retry_base_s`, doubled each time, until `max_attempts`.

A webhook post is JSON `{"id", "event", "bot", "created_at", "data"}` with headers
`X-Chatbot-Event`, `X-Chatbot-Delivery` (the same on every retry: a receiver dedupes by it),
`X-Chatbot-Timestamp` (Unix seconds, of this attempt) and `X-Chatbot-Signature`:
`sha256=` and the hex HMAC-SHA256, with the webhook's secret, of `<timestamp>.<body>`; a
receiver refuses an old timestamp (5 minutes) so a captured post cannot be replayed.

What is sent names no customer: conversation references, customers' words masked as stored,
a lead's contact partly hidden; staff open the rest in the console, audited.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import smtplib
import threading
import time
from email.message import EmailMessage
from typing import Any

import httpx

from chatbot.settings import AlertSettings
from chatbot.store.alerts import AlertStore, Delivery

log = logging.getLogger(__name__)

EVENTS = ("handoff.requested", "lead.created", "conversation.closed", "message.created")
_EMAILED = {"handoff.requested", "lead.created"}
_SUBJECTS = {
    "handoff.requested": "A customer is waiting for a person",
    "lead.created": "A customer asked to be contacted",
}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Alerts:
    def __init__(self, store: AlertStore, settings: AlertSettings) -> None:
        self.store, self._settings = store, settings
        self._due = threading.Event()  # set when something is owed: sent at once, not in 2 s

    def raise_(
        self, bot: str, event: str, data: dict[str, Any], email_to: list[str] | None = None
    ) -> None:
        """Owe the deliveries `event` calls for (e-mail to `email_to`, the bot's staff, for a
        waiting customer or a lead); none is sent here: a customer's request does not wait on
        a mail server."""
        payload = {"event": event, "bot": bot, "at": time.time(), **data}
        for hook in self.store.webhooks(bot):
            if event in hook.events:
                self.store.owe(bot, "webhook", hook.url, event, payload, hook.id)
        emailed = email_to or []
        if event in _EMAILED and emailed and self._settings.smtp_host:
            self.store.owe(bot, "email", ", ".join(emailed), event, payload)
        self._due.set()

    # -- sending ----------------------------------------------------------------------------
    def send_due(self) -> int:
        """Send what is due and claimed by this server; how many were sent."""
        sent = 0
        for delivery in self.store.claim_due(time.time()):
            try:
                outcome = (
                    self._post(delivery) if delivery.channel == "webhook" else self._mail(delivery)
                )
                ok = True
            except _Failed as exc:
                ok, outcome = False, str(exc)
            retry_at = None
            if not ok and delivery.attempts < self._settings.max_attempts:
                wait = self._settings.retry_base_s * 2 ** (delivery.attempts - 1)
                retry_at = time.time() + wait
            if not ok:
                log.warning(
                    "delivery %s (%s to %s) failed, attempt %s: %s",
                    delivery.id, delivery.event, delivery.channel, delivery.attempts, outcome,
                )  # fmt: skip
            self.store.settle(delivery.id, ok, outcome, retry_at)
            sent += ok
        return sent

    def _post(self, delivery: Delivery) -> str:
        secret = self.store.secret(delivery.webhook_id or 0)
        if secret is None:
            raise _Failed("the webhook was removed")
        body = json.dumps(
            {
                "id": delivery.id,
                "event": delivery.event,
                "bot": delivery.bot,
                "created_at": delivery.created_at,
                "data": {k: v for k, v in delivery.payload.items() if k not in ("event", "bot")},
            },
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "chatbot-webhooks/1",
            "X-Chatbot-Event": delivery.event,
            "X-Chatbot-Delivery": str(delivery.id),
            "X-Chatbot-Timestamp": timestamp,
            "X-Chatbot-Signature": signature(secret, timestamp, body),
        }
        try:
            # No redirects: a receiver moved elsewhere is a failure the owner sees.
            response = httpx.post(delivery.target, content=body, headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            raise _Failed(_reason(exc)) from exc
        if not 200 <= response.status_code < 300:
            raise _Failed(f"HTTP {response.status_code}")
        return f"HTTP {response.status_code}"

    def _mail(self, delivery: Delivery) -> str:
        s = self._settings
        data = delivery.payload
        message = EmailMessage()
        message["From"] = s.sender or f"chatbot@{s.smtp_host}"
        message["To"] = delivery.target
        message["Subject"] = f"[{delivery.bot}] {_SUBJECTS.get(delivery.event, delivery.event)}"
        lines = [_SUBJECTS.get(delivery.event, delivery.event) + "."]
        if data.get("question"):
            lines.append(f"They wrote: {data['question']}")
        if data.get("about"):
            lines.append(f"About: {data['about']}")
        lines.append(f"Conversation: {data.get('conversation', '')}")
        where = f"{s.console_url.rstrip('/')}/admin/" if s.console_url else "the console"
        lines.append(f"Open the Inbox in {where} to answer.")
        message.set_content("\n\n".join(lines))
        try:
            smtp_class = smtplib.SMTP_SSL if s.smtp_ssl else smtplib.SMTP
            with smtp_class(s.smtp_host, s.smtp_port, timeout=20) as smtp:
                if s.smtp_starttls and not s.smtp_ssl and smtp.has_extn("starttls"):
                    smtp.starttls()
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise _Failed(f"e-mail not sent: {exc}") from exc
        return "sent"

    # -- the schedule -----------------------------------------------------------------------
    def start(self) -> None:
        threading.Thread(target=self._run, name="alerts", daemon=True).start()

    def _run(self) -> None:
        while True:
            self._due.wait(self._settings.check_s)
            self._due.clear()
            try:
                self.send_due()
            except Exception:  # the database away a moment: the next round tries again
                log.exception("sending alerts failed")


class _Failed(Exception):
    pass


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return type(exc).__name__
