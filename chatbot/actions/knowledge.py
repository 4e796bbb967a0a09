"""What staff do to a bot's knowledge: upload, delete, retitle, re-index."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from chatbot.jobs.progress import JobProgress
from chatbot.privacy.documents import PersonalDataReview
from chatbot.services import Services
from chatbot.store.ingest_jobs import IngestJob
from knowledge.base import check_bot_name
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


def queue_upload(
    services: Services, bot: str, paths: list[Path], actor: str, mask_personal_data: bool = False
) -> int:
    """Hand the files to the job queue (a worker ingests them); the job's id, at once. The
    files' bytes go into the database, where any worker reads them."""
    check_bot_name(bot)
    files = [(path.name, path.read_bytes()) for path in paths]
    job_id = services.ingest_jobs.create(bot, actor, mask_personal_data, files)
    services.job_queue().queue_ingest(job_id)
    names = ", ".join(sorted(name for name, _ in files))
    services.audit.record(actor, "knowledge.upload.queued", f"{bot}: {names}", f"job {job_id}")
    return job_id


def run_ingest_job(services: Services, job: IngestJob) -> None:
    """A worker's part: ingest the job's files not yet done, one at a time, each outcome kept
    as soon as it is known, so that a worker taking the job over after a crash starts from the
    first file not done (and a document half-indexed when the worker died was never visible)."""
    job_id = job.id
    pending = services.ingest_jobs.start(job_id)
    total = len(job.files)
    first = total - len(pending)
    for number, (file_id, name, content) in enumerate(pending, start=first + 1):
        with tempfile.TemporaryDirectory(prefix="chatbot-job-") as folder:
            path = Path(folder) / name
            path.write_bytes(content)
            sink = JobProgress(services.ingest_jobs, job_id, f"file {number} of {total}: {name}")
            report = ingest_files(
                services, bot=job.bot, paths=[path], actor=job.actor, progress=sink,
                mask_personal_data=job.mask_personal_data,
            )  # fmt: skip
        outcome, detail, chunks = "unchanged", "", 0
        if report.ingested:
            outcome, chunks = "ingested", report.ingested[0][1]
        elif report.rejected:
            outcome, detail = "rejected", report.rejected[0][1]
        detail = detail or "; ".join(note for _, note in report.notes)
        services.ingest_jobs.file_done(file_id, outcome, detail, chunks)
    services.ingest_jobs.finish(job_id, "done", f"{total} file(s) read")


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
