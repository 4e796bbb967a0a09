"""What staff do to bots and their knowledge, from the console or the command line alike: each
action done once here, with its upload record and its audit entry, so neither front end can
forget one."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chatbot.privacy.documents import PersonalDataReview
from chatbot.services import Services
from chatbot.settings import BotProfile
from knowledge.errors import KnowledgeError
from knowledge.ingest import IngestReport, ProgressSink, ingest_paths


def ingest_files(
    services: Services,
    bot: str,
    paths: Iterable[Path],
    actor: str,
    progress: ProgressSink | None = None,
    mask_personal_data: bool = False,
) -> IngestReport:
    """Ingest files into a bot's knowledge base, recording each file's outcome; staff are told
    of personal data in a file, masked first if they chose so."""
    review = PersonalDataReview(mask_personal_data)
    report = ingest_paths(services.knowledge(bot), paths, services.ingest_limits, progress, review)
    services.uploads.record(bot, report, actor)
    summary = (
        f"ingested {len(report.ingested)}, unchanged {len(report.unchanged)},"
        f" rejected {len(report.rejected)}"
    )
    files = ", ".join(sorted(p.name for p in _all_paths(report)))
    services.audit.record(actor, "knowledge.upload", f"{bot}: {files}", summary)
    return report


def forget_document(services: Services, bot: str, source: str, actor: str) -> bool:
    removed = services.knowledge(bot).forget(source)
    if removed:
        services.uploads.forget(bot, source)
        services.audit.record(actor, "knowledge.delete", f"{bot}: {source}")
    return removed


def retitle_document(services: Services, bot: str, source: str, title: str, actor: str) -> None:
    """Staff's own title for a document: what customers read under answers from it."""
    services.knowledge(bot).set_title(source, title)
    services.audit.record(actor, "knowledge.retitle", f"{bot}: {source}", title[:200])


def create_bot(services: Services, bot: str, changes: dict[str, Any], actor: str) -> BotProfile:
    profile = services.bots.create(bot, changes)
    services.audit.record(actor, "bot.create", bot, _describe(changes))
    return profile


def change_bot(services: Services, bot: str, changes: dict[str, Any], actor: str) -> BotProfile:
    profile = services.bots.update(bot, changes)
    services.audit.record(actor, "bot.change", bot, _describe(changes))
    return profile


def delete_bot(services: Services, bot: str, actor: str) -> None:
    services.delete_bot(bot)
    services.audit.record(actor, "bot.delete", bot)


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


def _all_paths(report: IngestReport) -> list[Path]:
    return [
        *(p for p, _ in report.ingested),
        *report.unchanged,
        *(p for p, _ in report.rejected),
    ]


def _describe(changes: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in changes.items())
