"""The bot as a support desk's front: what becomes of each reply once the conversation's
standing is known, and what the customer is told when a person is asked to join."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chatbot.answering.prompts import Messages
from chatbot.answering.question import Question
from chatbot.answering.result import Answer
from chatbot.answering.smalltalk import SmallTalk
from chatbot.inbox.alerts import Alerts
from chatbot.inbox.hours import is_open, next_opening, opening_words
from chatbot.inbox.presence import StaffPresence
from chatbot.privacy.masking import mask
from chatbot.settings import BotProfile
from chatbot.store.inbox import InboxStore, Reply


@dataclass(frozen=True, slots=True)
class Settled:
    reply: Reply
    text: str  # what the customer is shown: the answer, or what a handoff adds to it
    offer_lead: bool = False  # no one can answer now: the page offers to take their contact

    @property
    def shown(self) -> bool:
        return self.reply is not Reply.WITHHELD


class SupportDesk:
    def __init__(
        self, store: InboxStore, presence: StaffPresence, messages: Messages, alerts: Alerts
    ) -> None:
        self.store, self.presence, self._messages = store, presence, messages
        self.alerts = alerts

    def relay(self, bot: str, conversation_id: str, message: str, spare: frozenset[str]) -> bool:
        """The customer's message kept for the person who has the conversation; False when no
        person has it and the bot is to answer."""
        kept = self.store.relay(bot, conversation_id, message, spare)
        if kept is None:
            return False
        said = {"conversation": conversation_id, "author": "customer", "text": kept}
        self.alerts.raise_(bot, "message.created", said)
        return True

    def settle(
        self,
        bot: str,
        profile: BotProfile,
        conversation_id: str,
        keep: bool,
        question: Question,
        answer: Answer,
    ) -> Settled:
        """Decide, as the reply would be sent, whether it is shown and whether a person is
        asked to join: when the customer asks for one, or the bot has not answered
        `handoff.after_misses` questions running. Greetings and thanks are no misses."""
        handoff = profile.handoff
        asked = handoff.enabled and question.talk is SmallTalk.PERSON
        reply = self.store.settle(
            bot,
            conversation_id,
            keep,
            answered=answer.answered or answer.kind == "smalltalk",
            asked_for_person=asked,
            hand_off_after_misses=handoff.after_misses if handoff.enabled else 0,
        )
        language, say = answer.language, self._messages.get
        if reply is Reply.HANDED_OFF:
            waiting = {
                "conversation": conversation_id,
                "reason": "asked" if asked else "missed",
                "question": mask(answer.question),
                "language": language,
            }
            self.alerts.raise_(bot, "handoff.requested", waiting, handoff.email_to)
        if reply is Reply.STILL_WAITING:
            return Settled(reply, say(language, "handoff_waiting"))
        if reply is not Reply.HANDED_OFF:
            return Settled(reply, answer.text)
        if not self.presence.online(bot):
            later = self._later(profile, language, with_contact=asked)
            return Settled(reply, later if asked else f"{answer.text}\n\n{later}", True)
        if asked:
            return Settled(reply, say(language, "handoff_asked"))
        return Settled(reply, f"{answer.text}\n\n{say(language, 'handoff_missed')}")

    def _later(self, profile: BotProfile, language: str, with_contact: bool) -> str:
        """No one is in the inbox: when someone will be, by the business's hours where it has
        them ("when we open, tomorrow at 10:00"), and how else to reach the business."""
        say = self._messages.get
        contact = profile.contact_text(language) if with_contact else ""
        reach = self._messages.contact(language, contact)
        now = dt.datetime.now(dt.UTC)
        hours = profile.business_hours
        opening = None if is_open(hours, now) else next_opening(hours, now)
        if opening is None:
            return say(language, "handoff_later", contact=reach)
        when = opening_words(opening, now, language)
        return say(language, "handoff_closed", contact=reach, when=when)
