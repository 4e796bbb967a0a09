"""Answers staff write themselves: pinned, searchable at once, given as written."""

from __future__ import annotations

from chatbot.services import Services
from knowledge.errors import KnowledgeError


def pin_answer(services: Services, bot: str, question: str, answer: str, actor: str) -> None:
    """Staff's answer to a question, searchable at once and given as written when asked again."""
    if not question.strip() or not answer.strip():
        raise KnowledgeError("write both the question and its answer")
    services.pins.add(bot, question, answer, actor)
    services.pins.publish(bot, services.knowledge(bot))
    services.audit.record(actor, "answer.pin", f"{bot}: {question.strip()}", answer.strip())


def unpin_answer(services: Services, bot: str, pin_id: int, actor: str) -> None:
    if not services.pins.remove(bot, pin_id):
        raise KnowledgeError(f"there is no pinned answer {pin_id} in bot {bot!r}")
    services.pins.publish(bot, services.knowledge(bot))
    services.audit.record(actor, "answer.unpin", f"{bot}: #{pin_id}")
