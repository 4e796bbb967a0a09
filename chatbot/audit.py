"""The audit log: every staff action (login, upload, delete, settings change, opening a
transcript, export), with who did it and when. Appended to only; owners read it; the console
offers no way to change it.
"""

from __future__ import annotations

import getpass
import time
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select

from chatbot.store.schema import audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    actor: str
    action: str
    target: str
    detail: str


def command_line_actor() -> str:
    """Who acts from the command line: the operating-system user, marked as such."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, actor: str, action: str, target: str = "", detail: str = "") -> None:
        with self._engine.begin() as db:
            db.execute(
                insert(audit_log).values(
                    at=time.time(), actor=actor, action=action, target=target, detail=detail
                )
            )

    def entries(self, limit: int = 500) -> list[AuditEntry]:
        """The latest entries, newest first."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        with self._engine.connect() as db:
            return [AuditEntry(*row) for row in db.execute(query)]
