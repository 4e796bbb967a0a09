"""A bot's test questions, changed by staff: imported from a file (JSONL or CSV), or suggested
from the bot's documents and kept. Audited like every other change."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from chatbot.answering.language import detect_language
from chatbot.evaluation.questions import TestQuestion, read_questions
from chatbot.evaluation.suggest import from_answer, suggest
from chatbot.services import Services
from chatbot.store.personal_data import ConversationRef
from knowledge.errors import KnowledgeError


def keep_questions(
    services: Services,
    bot: str,
    questions: list[TestQuestion],
    actor: str,
    *,
    instead: bool,
    how: str,
) -> int:
    """`instead`: the questions replace those the bot has."""
    kept = services.test_questions.add(bot, questions, actor, replace=instead)
    counted = f"{kept} question" if kept == 1 else f"{kept} questions"
    detail = f"{counted} {how}" + (", replacing the others" if instead else "")
    services.audit.record(actor, "eval.questions", bot, detail)
    return kept


def import_questions(
    services: Services, bot: str, path: Path, actor: str, *, replace: bool = False
) -> int:
    """The file's questions, every line checked before any is stored (a bad line: nothing)."""
    questions = read_questions(path)
    return keep_questions(services, bot, questions, actor, instead=replace, how=f"from {path.name}")


def keep_suggestions(services: Services, bot: str, actor: str) -> int:
    made = suggest(services.knowledge(bot))
    return keep_questions(services, bot, made, actor, instead=False, how="suggested")


def keep_answer_as_question(
    services: Services, bot: str, question: str, answer: str, source: str, actor: str
) -> bool:
    """A question and its right answer (staff's pinned answer) kept as a test question."""
    made = from_answer(question, answer, source)
    if made is None:
        return False
    keep_questions(services, bot, [made], actor, instead=False, how="from a pinned answer")
    return True


# Earlier turns kept with a conversation's question: enough for what "it" or "that one" means.
_TURNS_BEFORE = 2


def keep_turn_as_question(
    services: Services,
    ref: ConversationRef,
    turn: int,
    right_answer: str,
    actor: str,
    *,
    answerable: bool = True,
) -> TestQuestion:
    """A customer's question from a reviewed conversation kept as a test question, with the
    turns before it (so a follow-up is asked as it was) and the fact of the answer staff say is
    right (the bot's own, or staff's correction); `answerable=False`: one the bot should decline.
    A test question outlives the conversation's retention: what it keeps of the customer's
    words is what the log kept, their personal data masked when it was stored."""
    turns = services.conversations.transcript(ref.bot, ref.conversation_id)
    if not 0 <= turn < len(turns):
        raise KnowledgeError(f"conversation {ref.conversation_id!r} has no turn {turn + 1}")
    asked = tuple(t["question"] for t in turns[max(0, turn - _TURNS_BEFORE) : turn + 1])
    chosen = turns[turn]
    if answerable and not right_answer.strip() and not chosen["answered"]:
        raise KnowledgeError(
            "the bot did not answer this: write the right answer, or keep it as one the bot"
            " should not answer"
        )
    if answerable:
        source = chosen["sources"][0]["source"] if chosen["sources"] else None
        made = from_answer(asked[-1], right_answer.strip() or chosen["answer"], source)
        if made is None:
            raise KnowledgeError("write the right answer first: a test question needs its fact")
        made = replace(made, turns=asked)
    else:
        made = TestQuestion(asked, (), None, False, detect_language(asked[-1]))
    keep_questions(
        services,
        ref.bot,
        [made],
        actor,
        instead=False,
        how=f"from conversation {ref.conversation_id}",
    )
    return made
