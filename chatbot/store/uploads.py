"""What became of each file staff gave a bot: ingested, unchanged, or rejected and why."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, func, insert, select

from chatbot.store.schema import uploads
from knowledge.ingest import IngestReport


@dataclass(frozen=True, slots=True)
class Upload:
    source: str
    status: str
    reason: str
    chunks: int
    at: float
    actor: str


class UploadLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, bot: str, report: IngestReport, actor: str) -> None:
        now = time.time()
        notes = dict(report.notes)  # e.g. the personal data found in a file
        rows = [
            *(
                {
                    "source": Path(p).name,
                    "status": "ingested",
                    "reason": notes.get(p, ""),
                    "chunks": n,
                }
                for p, n in report.ingested
            ),
            *(
                {"source": Path(p).name, "status": "unchanged", "reason": "", "chunks": 0}
                for p in report.unchanged
            ),
            *(
                {"source": Path(p).name, "status": "rejected", "reason": why, "chunks": 0}
                for p, why in report.rejected
            ),
        ]
        if rows:
            stamped = [{**row, "bot": bot, "at": now, "actor": actor} for row in rows]
            with self._engine.begin() as db:
                db.execute(insert(uploads), stamped)

    def latest(self, bot: str) -> list[Upload]:
        """The latest outcome of each file name given to `bot`, newest first."""
        newest = (
            select(func.max(uploads.c.id))
            .where(uploads.c.bot == bot)
            .group_by(uploads.c.source)
            .scalar_subquery()
        )
        query = (
            select(
                uploads.c.source,
                uploads.c.status,
                uploads.c.reason,
                uploads.c.chunks,
                uploads.c.at,
                uploads.c.actor,
            )
            .where(uploads.c.id.in_(newest))
            .order_by(uploads.c.id.desc())
        )
        with self._engine.connect() as db:
            return [Upload(*row) for row in db.execute(query)]

    def forget(self, bot: str, source: str | None = None) -> None:
        condition = uploads.c.bot == bot
        if source is not None:
            condition = condition & (uploads.c.source == source)
        with self._engine.begin() as db:
            db.execute(delete(uploads).where(condition))
