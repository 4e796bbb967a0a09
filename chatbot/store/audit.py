"""The audit log: every staff action (login, upload, delete, settings change, opening a
transcript, export, erasure), with who did it and when. Appended to only; owners read it; the
console offers no way to change it.

Tamper-evident: each entry carries the SHA-256 of its own fields and of the entry before, and
one row (audit_chain) holds the newest entry and its hash. Editing an entry breaks its hash,
removing one leaves a gap in the ids and breaks the next entry's hash, removing the newest ones
disagrees with audit_chain: `chatbot audit verify` names each. This shows tampering by someone
who edits the database; it cannot stop someone who rewrites every hash after an edit, which is
why the docs advise copying `chatbot audit verify`'s head hash off the machine now and then.
Customer text never gets here unmasked: targets and details are masked on the way in.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update

from chatbot.privacy.masking import mask
from chatbot.store.database import inserted_id
from chatbot.store.schema import audit_chain, audit_log

GENESIS = "0" * 64

# What a breach notification or an access request asks about: whose personal data staff saw,
# exported or erased (customers' own erasures and the retention purge included).
PERSONAL_DATA_ACTIONS = (
    "conversation.open",
    "privacy.find",
    "privacy.export",
    "privacy.erase",
    "privacy.purge",
    "conversation.erase",
    "lead.open",
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    actor: str
    action: str
    target: str
    detail: str
    hash: str = ""


def entry_hash(
    previous: str, id: int, at: float, actor: str, action: str, target: str, detail: str
) -> str:
    fields = [previous, id, f"{at:.6f}", actor, action, target, detail]
    canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


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
        target, detail = mask(target), mask(detail)
        at = round(time.time(), 6)
        with self._engine.begin() as db:
            # Taking the chain row first serialises writers (SQLite's write lock, a row lock
            # elsewhere), so two processes cannot both chain to the same entry.
            db.execute(
                update(audit_chain)
                .where(audit_chain.c.id == 1)
                .values(last_id=audit_chain.c.last_id)
            )
            previous = db.execute(select(audit_chain.c.last_hash)).scalar_one()
            row = {"at": at, "actor": actor, "action": action, "target": target, "detail": detail}
            new_id = inserted_id(db.execute(insert(audit_log).values(**row, hash="")))
            digest = entry_hash(previous, new_id, at, actor, action, target, detail)
            db.execute(update(audit_log).where(audit_log.c.id == new_id).values(hash=digest))
            db.execute(update(audit_chain).values(last_id=new_id, last_hash=digest))

    def entries(self, limit: int = 500) -> list[AuditEntry]:
        """The latest entries, newest first."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        with self._engine.connect() as db:
            return [AuditEntry(*row) for row in db.execute(query)]

    def between(self, since: float, until: float, actions: tuple[str, ...]) -> list[AuditEntry]:
        """Entries of the given actions from `since` up to `until`, oldest first."""
        query = (
            select(audit_log)
            .where(audit_log.c.at >= since, audit_log.c.at < until)
            .where(audit_log.c.action.in_(actions))
            .order_by(audit_log.c.id)
        )
        with self._engine.connect() as db:
            return [AuditEntry(*row) for row in db.execute(query)]

    def verify(self) -> tuple[list[str], str]:
        """What is wrong with the log (empty: nothing), and the hash of its newest entry."""
        with self._engine.connect() as db:
            return verify_chain(db)


def _walk(db: Connection) -> Iterator[AuditEntry]:
    for row in db.execute(select(audit_log).order_by(audit_log.c.id)):
        yield AuditEntry(*row)


def verify_chain(db: Connection) -> tuple[list[str], str]:
    problems: list[str] = []
    previous, previous_id = GENESIS, 0
    for e in _walk(db):
        intact = entry_hash(previous, e.id, e.at, e.actor, e.action, e.target, e.detail) == e.hash
        if not intact and e.id != previous_id + 1:
            # (A gap alone is no proof: PostgreSQL skips ids of rolled-back inserts.)
            gap = (
                f"{previous_id + 1}" if e.id == previous_id + 2 else f"{previous_id + 1}-{e.id - 1}"
            )
            problems.append(f"entry {gap} was removed (the log jumps from {previous_id} to {e.id})")
        elif not intact:
            problems.append(f"entry {e.id} ({e.action} by {e.actor}) was changed")
        previous, previous_id = e.hash, e.id  # go on from what is there: one edit, one problem
    head = db.execute(select(audit_chain.c.last_id, audit_chain.c.last_hash)).one_or_none()
    if head is None:
        problems.append("the chain's head row is missing")
    elif head.last_id != previous_id:
        if head.last_id > previous_id:
            problems.append(
                f"the newest entries were removed (the log ends at {previous_id},"
                f" the chain at {head.last_id})"
            )
        else:
            problems.append(f"entries after {head.last_id} were added outside the audit log")
    elif head.last_hash != previous:
        problems.append(f"entry {previous_id} or the chain's head was changed")
    return problems, previous


def chain_existing_entries(db: Connection) -> None:
    """Hash entries written before the chain existed (migration 0005), and start its head."""
    previous, last_id = GENESIS, 0
    for e in list(_walk(db)):
        digest = entry_hash(previous, e.id, e.at, e.actor, e.action, e.target, e.detail)
        db.execute(update(audit_log).where(audit_log.c.id == e.id).values(hash=digest))
        previous, last_id = digest, e.id
    db.execute(insert(audit_chain).values(id=1, last_id=last_id, last_hash=previous))
