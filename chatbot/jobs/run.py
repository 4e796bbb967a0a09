"""What a worker does with a job it takes: an upload's files, or a read of a website."""

from __future__ import annotations

from chatbot.services import Services


def run_job(services: Services, job_id: int) -> None:
    from chatbot.actions.knowledge import run_ingest_job
    from chatbot.actions.websites import run_website_job

    job = services.ingest_jobs.get(job_id)
    if job is None:
        return  # its bot was deleted meanwhile
    if job.kind == "files":
        run_ingest_job(services, job)
    else:
        run_website_job(services, job)
