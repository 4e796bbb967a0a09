"""The bot on WhatsApp: what comes in through the webhook is kept at once (the webhook answers
Meta within its 3 seconds), then handled here, off the request, by whichever server leases the
customer first: one server at a time per customer, their messages in the order received, the
replies sent in order.

A customer's first message is answered with the bot's privacy notice in their language and two
reply buttons (agree and keep the conversation / agree and don't keep it); what they wrote is
held, sealed, until they agree (then answered) or for `whatsapp.parked_hours` (then deleted
with their number). After that each message goes through the same chain, limits, privacy and
inbox as the web chat: a person who has the conversation gets it instead of the bot, and what
staff reply is sent here, inside WhatsApp's 24-hour window or, past it, as the template the
owner named. What the bot cannot read (voice notes, images, stickers, locations, documents) is
answered politely and noted for staff. "DELETE" ("PADAM", "删除") erases the conversation.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from chatbot.actions.chat import business_contacts, conclude, history
from chatbot.answering.language import detect_language
from chatbot.answering.result import Answer, Done
from chatbot.privacy.notice import notice_texts, notice_version
from chatbot.settings import BotProfile
from chatbot.store.personal_data import Consent, ConversationRef
from chatbot.store.whatsapp import Channel, Customer, WaMessage, WhatsAppStore
from chatbot.whatsapp.graph import MAX_TEXT, GraphClient, GraphError
from chatbot.whatsapp.webhook import read_payload

if TYPE_CHECKING:
    from chatbot.services import Services

log = logging.getLogger(__name__)

WINDOW_S = 24 * 3600  # WhatsApp's customer-service window after the customer's last message
_NOTICE_AGAIN_S = 600  # a customer who writes again without agreeing is shown it again after
_ERASE_WORDS = {"delete": "en", "padam": "ms", "删除": "zh", "刪除": "zh"}  # and their language
_NOTICE_LANGUAGES = ("en", "ms", "zh")
_BOLD = re.compile(r"\*\*(\S(?:[^*\n]*\S)?)\*\*")


@dataclass(frozen=True, slots=True)
class StaffMessage:
    number_key: str  # the customer's
    message: dict[str, Any]  # as the Graph API takes it: text, or the owner's template


class OutsideWindow(Exception):
    """A staff reply past the 24-hour window, and no template to send it in."""


class WhatsAppDesk:
    def __init__(self, services: Services, store: WhatsAppStore) -> None:
        self.services, self.store = services, store
        self.settings = services.settings.whatsapp
        self._due = threading.Event()  # set when something came in: handled at once

    def client(self, channel: Channel) -> GraphClient:
        return GraphClient(self.settings.graph_url, channel.phone_number_id, channel.access_token)

    # -- the webhook's side -----------------------------------------------------------------
    def take(self, bot: str, channel: Channel, payload: Any) -> int:
        """Keep what a webhook brought (messages, once each; delivery receipts); how many
        messages were new. Nothing is answered here."""
        messages, receipts = read_payload(payload, channel.phone_number_id)
        new = 0
        for message in messages:
            body = {"text": message.text, "reply_id": message.reply_id}
            at = message.at or time.time()
            new += self.store.receive(bot, message.number, message.wamid, message.kind, body, at)
        for receipt in receipts:
            self.store.status(bot, receipt.wamid, receipt.status, "; ".join(receipt.errors))
            if receipt.status == "failed":
                log.warning("WhatsApp message of %s failed: %s", bot, "; ".join(receipt.errors))
        if new:
            self._due.set()
        return new

    # -- staff's side -----------------------------------------------------------------------
    def staff_message(
        self, bot: str, conversation_id: str, text: str, shown_as: str
    ) -> StaffMessage | None:
        """What a staff reply would be sent as (None: not a WhatsApp conversation); raises
        OutsideWindow where it cannot be sent. Asked before the reply is stored, then `send`."""
        customer = self.store.customer_of(bot, conversation_id)
        if customer is None:
            return None
        said = f"*{shown_as}*: {text}" if shown_as else text
        ago = time.time() - customer.last_inbound_at
        if ago < WINDOW_S:
            return StaffMessage(customer.number_key, _text(said))
        channel = self.store.channel(bot)
        hours = ago / 3600
        if channel is None or not channel.template:
            raise OutsideWindow(
                f"this customer last wrote on WhatsApp {hours:.0f} hours ago; past 24 hours "
                "WhatsApp delivers only an approved template: name one in the bot's WhatsApp "
                "settings (chatbot whatsapp connect --template), or ask them to write again"
            )
        return StaffMessage(customer.number_key, _template(channel, said))

    def send(self, bot: str, reply: StaffMessage) -> None:
        """Send a staff reply staff_message prepared, after the replies owed before it."""
        self.store.owe(bot, reply.number_key, reply.message["type"], reply.message)
        self._due.set()

    # -- the schedule -----------------------------------------------------------------------
    def start(self) -> None:
        threading.Thread(target=self._run, name="whatsapp", daemon=True).start()

    def _run(self) -> None:
        purged_at = 0.0
        while True:
            self._due.wait(self.settings.check_s)
            self._due.clear()
            try:
                self.work()
                if time.time() - purged_at > 3600:
                    purged_at = time.time()
                    self.store.purge(time.time(), self.settings.parked_hours * 3600, 7 * 86400)
            except Exception:  # the database away a moment: the next round tries again
                log.exception("WhatsApp work failed")

    def work(self) -> int:
        """Handle what is due for every customer this server can lease; customers served."""
        served = 0
        for bot, number_key in self.store.due(time.time()):
            if not self.store.lease(bot, number_key, time.time()):
                continue  # another server has them
            try:
                self._serve(bot, number_key)
                served += 1
            finally:
                self.store.release(bot, number_key)
        return served

    def _serve(self, bot: str, number_key: str) -> None:
        channel = self.store.channel(bot)
        while (message := self.store.next_incoming(bot, number_key)) is not None:
            try:
                self._handle(bot, channel, message)
            except Exception:
                log.exception("a WhatsApp message of %s could not be handled", bot)
                self.store.handled(message.id, "done", "failed")
            self._send_due(bot, channel, number_key)
        self._send_due(bot, channel, number_key)

    # -- one message ------------------------------------------------------------------------
    def _handle(self, bot: str, channel: Channel | None, message: WaMessage) -> None:
        customer = self.store.customer(bot, message.number_key)
        if customer is None:  # erased meanwhile
            self.store.handled(message.id)
            return
        services = self.services
        profile = services.profile(bot)
        text = str(message.body.get("text") or "")
        notices = notice_texts(profile, "whatsapp")
        version = notice_version(notices)
        consent = (
            services.personal_data.consent_of(bot, customer.conversation_id)
            if customer.conversation_id
            else None
        )
        if consent is None or consent.notice_version != version:
            self._before_consent(bot, customer, message, notices, version)
            return
        if message.kind == "reply":  # a rating's button, or a notice's pressed again
            self._reply(bot, customer, consent, str(message.body.get("reply_id") or ""))
            self.store.handled(message.id)
            return
        if message.kind != "text":
            services.desk.store.note(bot, consent.conversation_id, f"media:{message.kind}")
            self._say(customer, customer.language, "wa_cannot_read")
            self.store.handled(message.id)
            return
        if (language := _ERASE_WORDS.get(text.strip().lower())) is not None:
            self._erase(bot, channel, customer, consent, language)
            self.store.handled(message.id)
            return
        self._answer(bot, channel, profile, customer, consent, message, text)
        self.store.handled(message.id)

    def _before_consent(
        self,
        bot: str,
        customer: Customer,
        message: WaMessage,
        notices: dict[str, str],
        version: str,
    ) -> None:
        reply_id = str(message.body.get("reply_id") or "")
        choice = reply_id.split(":")  # agree:keep:<notice version> | agree:forget:<version>
        if len(choice) == 3 and choice[0] == "agree" and choice[2] == version:
            consent, _ = self.services.personal_data.consent(bot, version, choice[1] == "keep")
            # The number finds the conversation (privacy export/erase --contact).
            self.services.personal_data.remember_contacts(
                bot, consent.conversation_id, f"+{customer.number}"
            )
            self.store.handled(message.id)
            self.store.agreed(bot, customer.number_key, consent.conversation_id)
            if self.store.next_incoming(bot, customer.number_key) is None:
                self._say(customer, customer.language, "greeting_reply")
            return
        text = str(message.body.get("text") or "")
        language = customer.language
        if message.kind == "text" and text.strip():
            detected = detect_language(text)
            language = detected if detected in _NOTICE_LANGUAGES else "en"
        # What they sent waits, sealed, for their agreement (a voice note too: it is answered
        # and shown to staff then); a button of an older notice is not kept.
        self.store.handled(message.id, "done" if message.kind == "reply" else "parked")
        if time.time() - customer.notice_at < _NOTICE_AGAIN_S and language == customer.language:
            return
        say = self.services.prompts.messages.get
        # The notice as a message of its own (an interactive message's text holds 1,024
        # characters, less than some notices), then the question with its two buttons.
        notice = notices.get(language) or notices["en"]
        self.store.owe(bot, customer.number_key, "notice", _text(notice))
        choices = [
            (f"agree:keep:{version}", say(language, "wa_agree_keep")),
            (f"agree:forget:{version}", say(language, "wa_agree_only")),
        ]
        asked = _buttons(say(language, "wa_agree_ask"), choices)
        self.store.owe(bot, customer.number_key, "consent", asked)
        self.store.noticed(bot, customer.number_key, language)

    def _answer(
        self,
        bot: str,
        channel: Channel | None,
        profile: BotProfile,
        customer: Customer,
        consent: Consent,
        message: WaMessage,
        text: str,
    ) -> None:
        services = self.services
        limits = profile.limits
        conversation_id = consent.conversation_id
        if len(text) > limits.max_message_chars:
            self._say(customer, detect_language(text), "too_long")
            return
        spare = business_contacts(profile)
        if services.desk.relay(bot, conversation_id, text, spare):
            return  # a person has the conversation: the bot is silent
        limiter = services.rate_limiter("visitor")
        key = f"{bot}\0wa:{customer.number_key}"
        if limiter.allow(key, limits.visitor_messages_per_minute) is not None:
            self._say(customer, customer.language, "wa_too_fast")
            return
        self._typing(channel, message)
        turns = history(services, bot, conversation_id)
        answerer = services.answerer(bot)
        question = answerer.read(text, turns)
        answer: Answer | None = None
        for event in answerer.stream(question, turns):
            if isinstance(event, Done):
                answer = event.answer
        if answer is None:
            return
        concluded = conclude(
            services, bot, profile, consent, text, question, answer, spare, "whatsapp"
        )
        if not concluded.settled.shown:
            return  # a person took the conversation over while the bot answered
        if answer.language != customer.language:
            self.store.spoke(bot, customer.number_key, answer.language)
        for part in _parts(_with_sources(answer, services.prompts.messages.get)):
            self.store.owe(bot, customer.number_key, "text", _text(part))
        if concluded.ask_feedback:
            self._ask_feedback(customer, answer.language)

    def _ask_feedback(self, customer: Customer, language: str) -> None:
        """How did it go: three reply buttons (WhatsApp allows three), scored 5, 3 and 1 of the
        web chat's five (docs/OUTCOMES.md)."""
        say = self.services.prompts.messages.get
        scored = ((5, "wa_feedback_good"), (3, "wa_feedback_ok"), (1, "wa_feedback_bad"))
        choices = [(f"csat:{score}", say(language, key)) for score, key in scored]
        asked = _buttons(say(language, "wa_feedback_ask"), choices)
        self.store.owe(customer.bot, customer.number_key, "feedback", asked)

    def _reply(self, bot: str, customer: Customer, consent: Consent, reply_id: str) -> None:
        """A button pressed after consent: a rating of the conversation is kept and thanked
        for; anything else (a notice's button again) is passed over."""
        kind, _, score = reply_id.partition(":")
        if kind != "csat" or score not in ("1", "3", "5"):
            return
        if self.services.outcomes.feedback(bot, consent.conversation_id, int(score)):
            self._say(customer, customer.language, "wa_feedback_thanks")

    def _typing(self, channel: Channel | None, message: WaMessage) -> None:
        """Shown as read, "typing…" while the answer is made: a courtesy, never a failure."""
        if channel is None or not message.wamid:
            return
        try:
            self.client(channel).read_and_typing(message.wamid)
        except GraphError as exc:
            log.info("WhatsApp read receipt not sent: %s", exc)

    def _erase(
        self,
        bot: str,
        channel: Channel | None,
        customer: Customer,
        consent: Consent,
        language: str,
    ) -> None:
        """The customer's own right, as on the web chat's "delete": everything of theirs goes,
        their number with it; the confirmation is sent straight away (nothing is left to send
        it from)."""
        from chatbot.actions.privacy import erase_own_conversation

        erase_own_conversation(self.services, ConversationRef(bot, consent.conversation_id))
        self.store.forget_customer(bot, customer.number_key)
        if channel is not None:
            said = self.services.prompts.messages.get(language, "wa_erased")
            try:
                self.client(channel).send(customer.number, _text(said))
            except GraphError as exc:
                log.warning("WhatsApp erasure confirmation not sent: %s", exc)

    def _say(self, customer: Customer, language: str, key: str) -> None:
        said = self.services.prompts.messages.get(language, key)
        self.store.owe(customer.bot, customer.number_key, "text", _text(said))

    # -- sending ----------------------------------------------------------------------------
    def _send_due(self, bot: str, channel: Channel | None, number_key: str) -> None:
        """Send the customer's replies that are due, in order; stop at one that must wait."""
        customer = self.store.customer(bot, number_key)
        if customer is None:
            return
        while (message := self.store.next_outgoing(bot, number_key, time.time())) is not None:
            if channel is None or not channel.access_token:
                self.store.retry(message.id, time.time() + 300, "the bot has no WhatsApp number")
                return
            try:
                wamid = self.client(channel).send(customer.number, message.body)
            except GraphError as exc:
                if not self._failed(bot, channel, message, exc):
                    return
                continue
            self.store.sent(message.id, wamid)
            if channel.problem:  # Meta took it: the refusal shown to staff is over
                self.store.problem(bot, "")
                channel = replace(channel, problem="")

    def _failed(self, bot: str, channel: Channel, message: WaMessage, exc: GraphError) -> bool:
        """Record a send that failed; whether the replies after it may go now."""
        now, reason = time.time(), str(exc)
        log.warning("WhatsApp send for %s failed (attempt %s): %s", bot, message.attempts, reason)
        if exc.kind == "auth":  # nothing goes until the owner sets a new token; nothing lost
            self.store.problem(bot, reason)
            self.store.retry(message.id, now + 300, reason)
            return False
        if exc.kind in ("rate", "unreachable"):
            if message.attempts >= self.settings.max_attempts:
                self.store.failed(message.id, reason)
                return True
            wait = self.settings.retry_base_s * 2 ** (message.attempts - 1)
            self.store.retry(message.id, now + wait, reason)
            return False
        if exc.kind == "window" and channel.template and message.kind == "text":
            said = str(message.body.get("text", {}).get("body", ""))
            self.store.failed(message.id, reason + "; sent as the template instead")
            self.store.owe(bot, message.number_key, "template", _template(channel, said))
            return True
        self.store.failed(message.id, reason)
        return True


def _buttons(body: str, choices: list[tuple[str, str]]) -> dict[str, Any]:
    """A message with reply buttons (id, title), as Meta's interactive messages are sent."""
    buttons = [{"type": "reply", "reply": {"id": i, "title": title}} for i, title in choices]
    action = {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}
    return {"type": "interactive", "interactive": action}


def _text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def _template(channel: Channel, text: str) -> dict[str, Any]:
    """The owner's approved template, its one body parameter the reply (Meta: 1,024 characters
    at most, no new lines)."""
    flat = " ".join(text.split())[:1024]
    return {
        "type": "template",
        "template": {
            "name": channel.template,
            "language": {"code": channel.template_language or "en"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": flat}]}],
        },
    }


def _with_sources(answer: Answer, say: Any) -> str:
    """The answer as WhatsApp shows it: Markdown's **bold** as WhatsApp's *bold*, and its
    sources as titles (with links to web pages) where the answer does not name them already
    (a quoted row says where it is from)."""
    text = _BOLD.sub(r"*\1*", answer.text)
    titles: list[str] = []
    for source in answer.sources:
        place = source.place()
        line = place + (f" {source.url}" if source.url else "")
        if line not in titles and (place not in text or source.url):
            titles.append(line)
    if not titles or not answer.answered:
        return text
    listed = "\n".join(f"• {t}" for t in titles[:3])
    return f"{text}\n\n*{say(answer.language, 'sources')}*\n{listed}"


def _parts(text: str) -> list[str]:
    """`text` in messages of at most MAX_TEXT characters, cut between paragraphs or lines
    where it can be."""
    parts: list[str] = []
    while len(text) > MAX_TEXT:
        cut = max(text.rfind("\n\n", 0, MAX_TEXT), text.rfind("\n", 0, MAX_TEXT))
        if cut <= 0:
            cut = text.rfind(" ", 0, MAX_TEXT)
        if cut <= 0:
            cut = MAX_TEXT
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text.strip():
        parts.append(text)
    return parts
