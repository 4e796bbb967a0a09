"""Uploads ingested by a worker: the job, its files until each is ingested, what became of each,
and how far it has got, so that any server shows it and a worker taking the job over after a
crash goes on from the first file not done."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, delete, insert, select, update

from chatbot.store.schema import ingest_job_files, ingest_jobs


@dataclass(frozen=True, slots=True)
class JobFile:
    id: int
    name: str
    outcome: str | None  # ingested | unchanged | rejected; None while not done
    detail: str
    chunks: int


@dataclass(frozen=True, slots=True)
class IngestJob:
    id: int
    bot: str
    kind: str  # files | website | schedule (a website's read, done only if still due)
    target: str  # the website's address
    actor: str
    mask_personal_data: bool
    state: str  # queued | running | done | failed
    progress: str
    attempts: int
    created_at: float
    files: list[JobFile]


class IngestJobs:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(
        self,
        bot: str,
        actor: str,
        mask: bool,
        files: list[tuple[str, bytes]],
        *,
        kind: str = "files",
        target: str = "",
    ) -> int:
        now = time.time()
        with self._engine.begin() as db:
            job_id = db.execute(
                insert(ingest_jobs)
                .values(
                    bot=bot,
                    kind=kind,
                    target=target,
                    actor=actor,
                    mask_personal_data=mask,
                    state="queued",
                    progress="waiting for a worker",
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
                .returning(ingest_jobs.c.id)
            ).scalar_one()
            if files:
                db.execute(
                    insert(ingest_job_files),
                    [
                        {"job_id": job_id, "name": n, "content": c, "detail": "", "chunks": 0}
                        for n, c in files
                    ],
                )
        return int(job_id)

    def get(self, job_id: int) -> IngestJob | None:
        found = self._read(ingest_jobs.c.id == job_id, limit=1)
        return found[0] if found else None

    def of_bot(self, bot: str, limit: int = 10) -> list[IngestJob]:
        """The bot's latest jobs, newest first (what every open console asks every 2 s)."""
        return self._read(ingest_jobs.c.bot == bot, limit)

    def _read(self, where: ColumnElement[bool], limit: int) -> list[IngestJob]:
        """The jobs `where` holds, newest first, with their files: two queries in all."""
        with self._engine.connect() as db:
            rows = db.execute(
                select(ingest_jobs).where(where).order_by(ingest_jobs.c.id.desc()).limit(limit)
            ).all()
            files: dict[int, list[JobFile]] = {row.id: [] for row in rows}
            for f in db.execute(
                select(
                    ingest_job_files.c.job_id,
                    ingest_job_files.c.id,
                    ingest_job_files.c.name,
                    ingest_job_files.c.outcome,
                    ingest_job_files.c.detail,
                    ingest_job_files.c.chunks,
                )
                .where(ingest_job_files.c.job_id.in_(list(files)))
                .order_by(ingest_job_files.c.id)
            ):
                files[f.job_id].append(JobFile(f.id, f.name, f.outcome, f.detail, f.chunks))
        return [
            IngestJob(
                row.id,
                row.bot,
                row.kind,
                row.target,
                row.actor,
                row.mask_personal_data,
                row.state,
                row.progress,
                row.attempts,
                row.created_at,
                files[row.id],
            )
            for row in rows
        ]

    def start(self, job_id: int) -> list[tuple[int, str, bytes]]:
        """Mark the job running (one more attempt); its files not yet done, with their bytes."""
        with self._engine.begin() as db:
            db.execute(
                update(ingest_jobs)
                .where(ingest_jobs.c.id == job_id)
                .values(
                    state="running",
                    attempts=ingest_jobs.c.attempts + 1,
                    updated_at=time.time(),
                )
            )
            rows = db.execute(
                select(ingest_job_files.c.id, ingest_job_files.c.name, ingest_job_files.c.content)
                .where(ingest_job_files.c.job_id == job_id, ingest_job_files.c.outcome.is_(None))
                .order_by(ingest_job_files.c.id)
            )
            return [(r.id, r.name, bytes(r.content or b"")) for r in rows]

    def file_done(self, file_id: int, outcome: str, detail: str, chunks: int) -> None:
        """What became of one file; its bytes are let go of (the knowledge base has it now)."""
        with self._engine.begin() as db:
            db.execute(
                update(ingest_job_files)
                .where(ingest_job_files.c.id == file_id)
                .values(outcome=outcome, detail=detail[:2000], chunks=chunks, content=None)
            )

    def set_progress(self, job_id: int, progress: str) -> None:
        with self._engine.begin() as db:
            db.execute(
                update(ingest_jobs)
                .where(ingest_jobs.c.id == job_id)
                .values(progress=progress[:500], updated_at=time.time())
            )

    def finish(self, job_id: int, state: str, progress: str) -> None:
        with self._engine.begin() as db:
            db.execute(
                update(ingest_jobs)
                .where(ingest_jobs.c.id == job_id)
                .values(state=state, progress=progress[:500], updated_at=time.time())
            )

    def unfinished(self, bot: str, target: str) -> bool:
        """Whether a job on `target` (a website) is queued or running."""
        with self._engine.connect() as db:
            found = db.execute(
                select(ingest_jobs.c.id)
                .where(
                    ingest_jobs.c.bot == bot,
                    ingest_jobs.c.target == target,
                    ingest_jobs.c.state.in_(("queued", "running")),
                )
                .limit(1)
            ).first()
        return found is not None

    def delete(self, job_id: int) -> None:
        with self._engine.begin() as db:
            db.execute(delete(ingest_jobs).where(ingest_jobs.c.id == job_id))

    def forget_bot(self, bot: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(ingest_jobs).where(ingest_jobs.c.bot == bot))
