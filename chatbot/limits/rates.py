"""Requests per minute, counted over a sliding window per key (a visitor, a bot)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from chatbot.shared_state import SharedStore


class Limiter(Protocol):
    def allow(self, key: str, per_minute: int) -> float | None:
        """Count one request for `key`; None when within the limit, else seconds to wait."""
        ...


class RateLimiter:
    """Sliding one-minute windows of request times per key; thread-safe, bounded in memory."""

    WINDOW_S = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def allow(self, key: str, per_minute: int) -> float | None:
        """Count one request for `key`; None when within the limit, else seconds to wait."""
        now = self._clock()
        with self._lock:
            self._sweep(now)
            times = self._seen.setdefault(key, deque())
            while times and now - times[0] >= self.WINDOW_S:
                times.popleft()
            if len(times) >= per_minute:
                return max(1.0, self.WINDOW_S - (now - times[0]))
            times.append(now)
            return None

    def _sweep(self, now: float) -> None:
        # Forget visitors who went quiet, so that memory follows current traffic only.
        if now - self._last_sweep < self.WINDOW_S:
            return
        self._last_sweep = now
        for key in [k for k, t in self._seen.items() if not t or now - t[-1] >= self.WINDOW_S]:
            del self._seen[key]


class SharedRateLimiter:
    """The same limit, counted in a store every server shares: a visitor sending to two servers
    is counted once, not once per server."""

    WINDOW_S = 60.0

    def __init__(self, store: SharedStore, name: str) -> None:
        self._store, self._name = store, name

    def allow(self, key: str, per_minute: int) -> float | None:
        # A NUL (the web layer's separator) cannot be stored in PostgreSQL text; bot names
        # never hold a "|".
        return self._store.hit(
            f"rate:{self._name}:{key.replace(chr(0), '|')}", per_minute, self.WINDOW_S
        )
