"""Shared state in the application's PostgreSQL database, for several servers without Redis.

Each operation is one transaction that first takes a transaction advisory lock on its key, so
that two servers counting the same visitor at once count one after the other. Times are the
database server's (`clock_timestamp()`), so servers whose clocks differ count alike. Expired rows
are deleted as their key is next used and by `sweep()` (the privacy purge calls it).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from chatbot.shared_state import SharedStateUnavailable
from chatbot.store.schema import leases, rate_events, short_lived


class DatabaseStore:
    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("shared state in the database needs PostgreSQL")
        self._engine = engine

    @contextmanager
    def _locked(self, key: str) -> Iterator[tuple[Connection, float]]:
        """A transaction holding `key`'s lock, and the database's time now."""
        # A database that cannot be reached raises OperationalError, which the web app answers
        # with 503 as it does for any other failure to store.
        with self._engine.begin() as db:
            now = db.execute(
                text(
                    "SELECT extract(epoch FROM clock_timestamp())"
                    " FROM (SELECT pg_advisory_xact_lock(hashtext(:key))) AS locked"
                ),
                {"key": key},
            ).scalar_one()
            yield db, float(now)

    def hit(self, key: str, limit: int, window_s: float) -> float | None:
        with self._locked(key) as (db, now):
            db.execute(
                delete(rate_events).where(
                    rate_events.c.key == key, rate_events.c.at <= now - window_s
                )
            )
            times = (
                db.execute(
                    select(rate_events.c.at)
                    .where(rate_events.c.key == key)
                    .order_by(rate_events.c.at)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
            if len(times) >= limit:
                return max(0.001, window_s - (now - float(times[0])))
            db.execute(insert(rate_events).values(key=key, at=now))
            return None

    def lease(self, key: str, capacity: int, ttl_s: float) -> str | None:
        with self._locked(key) as (db, now):
            db.execute(delete(leases).where(leases.c.key == key, leases.c.expires_at <= now))
            held = db.execute(
                select(func.count()).select_from(leases).where(leases.c.key == key)
            ).scalar_one()
            if held >= capacity:
                return None
            token = secrets.token_hex(8)
            db.execute(insert(leases).values(key=key, token=token, expires_at=now + ttl_s))
            return token

    def renew(self, key: str, token: str, ttl_s: float) -> bool:
        with self._locked(key) as (db, now):
            renewed = db.execute(
                update(leases)
                .where(leases.c.key == key, leases.c.token == token, leases.c.expires_at > now)
                .values(expires_at=now + ttl_s)
            )
            return bool(renewed.rowcount)

    def release(self, key: str, token: str) -> None:
        with self._locked(key) as (db, _):
            db.execute(delete(leases).where(leases.c.key == key, leases.c.token == token))

    def get(self, key: str) -> bytes | None:
        with self._locked(key) as (db, now):
            value: bytes | None = db.execute(
                select(short_lived.c.value).where(
                    and_(short_lived.c.key == key, short_lived.c.expires_at > now)
                )
            ).scalar_one_or_none()
            return value

    def put(self, key: str, value: bytes, ttl_s: float) -> None:
        with self._locked(key) as (db, now):
            db.execute(delete(short_lived).where(short_lived.c.key == key))
            db.execute(insert(short_lived).values(key=key, value=value, expires_at=now + ttl_s))

    def delete(self, key: str) -> None:
        with self._locked(key) as (db, _):
            db.execute(delete(short_lived).where(short_lived.c.key == key))

    def sweep(self) -> None:
        with self._locked("sweep") as (db, now):
            db.execute(delete(short_lived).where(short_lived.c.expires_at <= now))
            db.execute(delete(leases).where(leases.c.expires_at <= now))
            # No window is longer than an hour; older events count for nothing.
            db.execute(delete(rate_events).where(rate_events.c.at <= now - 3600))

    def check(self) -> None:
        try:
            with self._locked("check"):
                pass
        except OperationalError as exc:
            raise SharedStateUnavailable(f"the database is unavailable: {exc.orig}") from exc

    def close(self) -> None:
        """Nothing to do: the engine belongs to the application."""
