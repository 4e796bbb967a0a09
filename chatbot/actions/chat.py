"""A customer's message answered, whatever the channel (the web chat's stream, WhatsApp):
what the conversation said so far, and what becomes of the answer once it is made: shown or
withheld as the conversation stands (a person may have taken it over), kept as the customer
chose, with the business's own contacts left unmasked."""

from __future__ import annotations

from dataclasses import dataclass

from chatbot.answering.chain import Turn
from chatbot.answering.question import Question
from chatbot.answering.result import Answer
from chatbot.answering.smalltalk import SmallTalk
from chatbot.inbox.desk import Settled
from chatbot.privacy.masking import contact_keys
from chatbot.services import Services
from chatbot.settings import BotProfile
from chatbot.store.inbox import Reply
from chatbot.store.personal_data import Consent


@dataclass(frozen=True, slots=True)
class Concluded:
    settled: Settled
    answer_id: int | None  # the stored answer, for a rating; None when not kept or not shown
    # The customer is closing ("thanks", "bye") a conversation with questions in it and has
    # not rated it: they are asked how it went, with one tap (docs/OUTCOMES.md).
    ask_feedback: bool = False


def business_contacts(profile: BotProfile) -> frozenset[str]:
    """The business's own phone numbers and addresses: never masked in what is kept."""
    return frozenset(contact_keys(f"{profile.contact_text()} {profile.whatsapp}"))


def history(services: Services, bot: str, conversation_id: str) -> list[Turn]:
    """The conversation's turns: in memory while it runs, else what was kept (masked)."""
    turns = services.live.turns(conversation_id)
    if turns is None:  # not in memory (a restart): what was kept, masked
        turns = services.conversations.turns(bot, conversation_id)
    return [Turn(q, a) for q, a in turns]


def conclude(
    services: Services,
    bot: str,
    profile: BotProfile,
    consent: Consent,
    message: str,
    question: Question,
    answer: Answer,
    spare: frozenset[str],
    channel: str = "web",
) -> Concluded:
    """Decide, as the answer would be sent, whether it is shown (a person who took the
    conversation over while the bot answered has it) and whether a person is asked to join;
    keep what is shown as the customer chose, masked but for the business's own contacts
    (`spare`, from business_contacts). `answer.text` becomes what the customer sees. What
    became of the conversation is noted for its outcome, kept or not (no words in it)."""
    conversation_id = consent.conversation_id
    settled = services.desk.settle(bot, profile, conversation_id, consent.keep, question, answer)
    talk = question.talk
    outcome = services.outcomes.note(
        bot,
        conversation_id,
        channel,
        answer.language,
        question=talk is None,
        answered=answer.answered,
        thanks=talk is SmallTalk.THANKS,
        person=talk is SmallTalk.PERSON or settled.reply is Reply.HANDED_OFF,
    )
    if not settled.shown:
        return Concluded(settled, None)
    answer.text = settled.text
    services.live.add(conversation_id, message, answer.text)
    answer_id = None  # a conversation not kept has nothing to rate
    if consent.keep:
        answer_id = services.conversations.record(bot, conversation_id, answer, spare=spare)
        services.personal_data.remember_contacts(bot, conversation_id, message)
    closing = talk in (SmallTalk.THANKS, SmallTalk.GOODBYE)
    ask = closing and outcome.questions > 0 and outcome.csat is None and not outcome.person
    return Concluded(settled, answer_id, ask)
