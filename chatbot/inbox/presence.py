"""Whether a staff member has a bot's inbox open: the console tells it every few seconds while
it is open, and the customer asking for a person is told whether someone will answer now or
when they are back."""

from __future__ import annotations

import threading
import time

from chatbot.shared_state import SharedStore

ONLINE_S = 60.0  # the console tells every 5 s: a minute allows for a slow network


class StaffPresence:
    """In this server's memory, or in the store every server shares (a customer's server is
    seldom the one the staff member's console talks to)."""

    def __init__(self, store: SharedStore | None, online_s: float = ONLINE_S) -> None:
        self._store, self._online_s = store, online_s
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def seen(self, bot: str) -> None:
        if self._store is not None:
            self._store.put(f"staff-online:{bot}", b"1", self._online_s)
            return
        with self._lock:
            self._seen[bot] = time.monotonic()

    def online(self, bot: str) -> bool:
        if self._store is not None:
            return self._store.get(f"staff-online:{bot}") is not None
        with self._lock:
            at = self._seen.get(bot)
        return at is not None and at >= time.monotonic() - self._online_s
