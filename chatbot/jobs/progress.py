"""A job's progress, written where every server's console reads it."""

from __future__ import annotations

import time
from pathlib import Path

from chatbot.store.ingest_jobs import IngestJobs
from knowledge.ingest import ProgressSink


class JobProgress(ProgressSink):
    """A worker's progress, written to the job where every server reads it: at most once a
    second, so that a long PDF does not write a row per passage."""

    def __init__(self, jobs: IngestJobs, job_id: int, doing: str) -> None:
        self._jobs, self._job_id, self._doing = jobs, job_id, doing
        self._written, self._pages = 0.0, 0

    def _say(self, progress: str, *, now: bool = False) -> None:
        if now or time.monotonic() - self._written >= 1.0:
            self._jobs.set_progress(self._job_id, progress)
            self._written = time.monotonic()

    def file_started(self, path: Path) -> None:
        self._say(self._doing, now=True)

    def pages(self, read: int, total: int) -> None:
        self._say(f"{self._doing}, page {read} of {total}")

    def chunks(self, done: int, total: int) -> None:
        self._say(f"{self._doing}, {done} of {total} passages")

    def page_read(self, url: str, outcome: str) -> None:
        self._pages += 1
        self._say(f"{self._doing}, {self._pages} pages read, the last {url}: {outcome}")
