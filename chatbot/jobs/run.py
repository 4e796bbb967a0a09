"""What a worker does with a job it takes: an upload's files, or a read of a website."""

from __future__ import annotations

from chatbot.services import Services
from knowledge.errors import StoreUnavailable


def run_job(services: Services, job_id: int) -> None:
    from chatbot.actions.knowledge import run_ingest_job
    from chatbot.actions.websites import run_website_job

    job = services.ingest_jobs.get(job_id)
    if job is None:
        return  # its bot was deleted meanwhile
    try:
        if job.kind == "files":
            run_ingest_job(services, job)
        else:
            run_website_job(services, job)
    except StoreUnavailable as exc:  # the file or page it was at is not done: tried again
        wait_s = services.settings.jobs.retry_after_s
        services.ingest_jobs.finish(job_id, "queued", f"waiting {wait_s:g} s: {exc}")
        raise
