"""What staff do to a bot's knowledge: upload, delete, retitle, re-index."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from chatbot.privacy.documents import PersonalDataReview
from chatbot.services import Services
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
    limits = services.ingest_limits_for(bot)
    report = ingest_paths(services.knowledge(bot), paths, limits, progress, review)
    services.uploads.record(bot, report, actor)
    summary = (
        f"ingested {len(report.ingested)}, unchanged {len(report.unchanged)},"
        f" rejected {len(report.rejected)}"
    )
    files = ", ".join(sorted(p.name for p in _all_paths(report)))
    services.audit.record(actor, "knowledge.upload", f"{bot}: {files}", summary)
    return report


def refuse_upload(services: Services, bot: str, refused: list[str], actor: str) -> None:
    """Files a staff session named but did not upload itself (Gradio's API takes any path)."""
    services.audit.record(actor, "knowledge.upload.refused", bot, ", ".join(refused)[:500])


def reindex(
    services: Services, bot: str, actor: str, on_progress: Callable[[int, int], None] | None = None
) -> int:
    """Re-embed every passage with the configured embedding model; the passages done."""
    done = services.knowledge(bot, reindexing=True).reindex(on_progress)
    services.audit.record(actor, "knowledge.reindex", bot, f"{done} passages")
    return done


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


def _all_paths(report: IngestReport) -> list[Path]:
    return [
        *(p for p, _ in report.ingested),
        *report.unchanged,
        *(p for p, _ in report.rejected),
    ]
