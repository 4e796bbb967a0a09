"""A bot's test questions, changed by staff: imported from a file (JSONL or CSV), or suggested
from the bot's documents and kept. Audited like every other change."""

from __future__ import annotations

from pathlib import Path

from chatbot.evaluation.questions import TestQuestion, read_questions
from chatbot.evaluation.suggest import from_answer, suggest
from chatbot.services import Services


def keep_questions(
    services: Services,
    bot: str,
    questions: list[TestQuestion],
    actor: str,
    *,
    replace: bool,
    how: str,
) -> int:
    kept = services.test_questions.add(bot, questions, actor, replace=replace)
    detail = f"{kept} questions {how}" + (", replacing the others" if replace else "")
    services.audit.record(actor, "eval.questions", bot, detail)
    return kept


def import_questions(
    services: Services, bot: str, path: Path, actor: str, *, replace: bool = False
) -> int:
    """The file's questions, every line checked before any is stored (a bad line: nothing)."""
    questions = read_questions(path)
    return keep_questions(services, bot, questions, actor, replace=replace, how=f"from {path.name}")


def keep_suggestions(services: Services, bot: str, actor: str) -> int:
    made = suggest(services.knowledge(bot))
    return keep_questions(services, bot, made, actor, replace=False, how="suggested")


def keep_answer_as_question(
    services: Services, bot: str, question: str, answer: str, source: str, actor: str
) -> bool:
    """A question and its right answer (staff's pinned answer) kept as a test question."""
    made = from_answer(question, answer, source)
    if made is None:
        return False
    keep_questions(services, bot, [made], actor, replace=False, how="from a pinned answer")
    return True
