"""The job queue: procrastinate on the application's PostgreSQL database, its tables in a schema
of their own (`jobs`), beside the application's whose migrations compare the default schema."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

INGEST_QUEUE = "ingest"
_SCHEMA_LOCK = 0x6A6F6273  # "jobs": two servers starting at once install the tables once


def _conninfo(engine: Engine) -> str:
    """The libpq address of the database SQLAlchemy's URL names (psycopg's own pool connects)."""
    url = make_url(engine.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class JobQueue:
    def __init__(
        self, engine: Engine, run_ingest: Callable[[int], None], retry_after_s: float = 30.0
    ) -> None:
        import procrastinate
        from sqlalchemy.exc import OperationalError

        from knowledge.errors import StoreUnavailable

        self._engine = engine
        connector = procrastinate.PsycopgConnector(
            conninfo=_conninfo(engine), kwargs={"options": "-c search_path=jobs"}
        )
        self.app = procrastinate.App(connector=connector)

        # A bad file is the job's outcome (its reason), not a retry; a store that is down is
        # waited for, as long as it takes; a worker that dies is replaced (_retry_stalled).
        retry = procrastinate.RetryStrategy(
            wait=round(retry_after_s), retry_exceptions={StoreUnavailable, OperationalError}
        )

        def ingest(job_id: int) -> None:  # procrastinate passes the job's arguments by name
            run_ingest(job_id)

        self._ingest = self.app.task(name="ingest", queue=INGEST_QUEUE, retry=retry)(ingest)
        self._install()
        self.app.open()

    def _install(self) -> None:
        from procrastinate.schema import SchemaManager

        with self._engine.begin() as db:
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            if db.execute(text("SELECT to_regclass('jobs.procrastinate_jobs')")).scalar():
                return
            db.execute(text("CREATE SCHEMA IF NOT EXISTS jobs"))
            db.execute(text("SET LOCAL search_path TO jobs"))
            db.connection.driver_connection.execute(  # type: ignore[union-attr]
                SchemaManager.get_schema()
            )
            log.warning("job queue: installed procrastinate's tables in schema jobs")

    def queue_ingest(self, job_id: int, once: str | None = None) -> bool:
        """Queue the job; with `once`, not if a job of that name is already waiting (False)."""
        from procrastinate.exceptions import AlreadyEnqueued

        try:
            self._ingest.configure(queueing_lock=once).defer(job_id=job_id)
        except AlreadyEnqueued:
            return False
        return True

    def close(self) -> None:
        self.app.close()

    def run_worker(self, *, stalled_after_s: float, name: str | None = None) -> None:
        """Take jobs until stopped (SIGINT, SIGTERM); every few seconds, give the jobs of a
        worker silent for `stalled_after_s` to this one's queue again."""
        asyncio.run(self._work(stalled_after_s, name))

    async def _work(self, stalled_after_s: float, name: str | None) -> None:
        async with self.app.open_async():
            retrying = asyncio.create_task(self._retry_stalled(stalled_after_s))
            try:
                await self.app.run_worker_async(
                    queues=[INGEST_QUEUE],
                    name=name or "worker",
                    update_heartbeat_interval=max(1.0, stalled_after_s / 3),
                    stalled_worker_timeout=stalled_after_s,
                    install_signal_handlers=True,
                )
            finally:
                retrying.cancel()

    async def _retry_stalled(self, stalled_after_s: float) -> None:
        manager: Any = self.app.job_manager
        while True:
            for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s):
                log.warning("job %s: its worker stopped answering; queued again", job.id)
                await manager.retry_job(job)
            await asyncio.sleep(max(1.0, stalled_after_s / 3))
