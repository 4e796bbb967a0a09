"""Short-lived state that every server of a deployment must see alike: how often a visitor has
asked in the last minute, the answers being generated for a bot, the turns of conversations in
progress. One process keeps it in its memory (the default, chatbot.limits and store/live.py);
several share it in Redis (`shared_state.redis_url`) or, without Redis, in their PostgreSQL
database. A store offers the three things those need: a sliding-window counter, leases of a
bounded resource, and values that expire.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class SharedStateUnavailable(ConnectionError):
    """The shared store cannot be reached: the server answers 503 (an OSError, as a full disk
    is) and /readyz names it, rather than letting anything past a limit it cannot count."""


class SharedStore(Protocol):
    def hit(self, key: str, limit: int, window_s: float) -> float | None:
        """Count one event for `key` unless `limit` happened in the last `window_s`: None when
        counted, else the seconds until the oldest leaves the window."""
        ...

    def lease(self, key: str, capacity: int, ttl_s: float) -> str | None:
        """One of `capacity` places under `key`, held until released or `ttl_s` from now (a
        server that dies gives its places back that way); its token, or None when all are
        held."""
        ...

    def renew(self, key: str, token: str, ttl_s: float) -> bool:
        """Hold a lease `ttl_s` more; False when it had expired."""
        ...

    def release(self, key: str, token: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes, ttl_s: float) -> None: ...

    def delete(self, key: str) -> None: ...

    def sweep(self) -> None:
        """Delete what has expired, where the store does not do it by itself."""
        ...

    def check(self) -> None:
        """Raise SharedStateUnavailable unless the store answers (for /readyz)."""
        ...

    def close(self) -> None: ...


@contextmanager
def one_at_a_time(store: SharedStore | None, key: str, longest_s: float) -> Iterator[bool]:
    """Whether this process may do the work named `key` now, no other server doing it at the
    same time (held at most `longest_s`, should this one die); always, with no shared store."""
    if store is None:
        yield True
        return
    token = store.lease(f"once:{key}", 1, longest_s)
    try:
        yield token is not None
    finally:
        if token is not None:
            store.release(f"once:{key}", token)
