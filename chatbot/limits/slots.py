"""Answers generated at once for one bot, and how many more may wait for a place: past both, a
visitor is told the bot is busy at once rather than left waiting behind a queue without end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from chatbot.shared_state import SharedStore

Release = Callable[[], None]


class Slots(Protocol):
    async def acquire(self) -> Release | None:
        """A place to generate an answer, waiting for one if a waiting place is free; the
        function that gives it back, or None when the bot is too busy to wait for."""
        ...


class AnswerSlots:
    """In this process: a semaphore, first come first served."""

    def __init__(self, running: int, waiting: int) -> None:
        self._running = asyncio.Semaphore(running)
        self._waiting, self._max_waiting = 0, waiting

    async def acquire(self) -> Release | None:
        if self._running.locked() and self._waiting >= self._max_waiting:
            return None
        self._waiting += 1
        try:
            await self._running.acquire()
        finally:
            self._waiting -= 1
        return self._running.release


class SharedAnswerSlots:
    """Across every server: places are leases in the shared store, so a bot's limit holds
    however many servers answer for it, and a server that dies gives its places back when its
    leases run out (`lease_s`, longer than any answer may take)."""

    POLL_S = 0.1  # how often a waiting request asks again; a place freed elsewhere is not told
    WAITING_LEASE_S = 10.0  # a waiting place, renewed while its request waits

    def __init__(
        self, store: SharedStore, bot: str, running: int, waiting: int, lease_s: float
    ) -> None:
        self._store, self._running, self._waiting, self._lease_s = store, running, waiting, lease_s
        self._key = f"slots:{bot}"
        self._waiting_key = f"slots:{bot}:waiting"

    def _take(self) -> Release | None:
        token = self._store.lease(self._key, self._running, self._lease_s)
        if token is None:
            return None
        return lambda: self._store.release(self._key, token)

    async def acquire(self) -> Release | None:
        taken = await asyncio.to_thread(self._take)
        if taken is not None or self._waiting <= 0:
            return taken
        ticket = await asyncio.to_thread(
            self._store.lease, self._waiting_key, self._waiting, self.WAITING_LEASE_S
        )
        if ticket is None:
            return None
        loop = asyncio.get_running_loop()
        renewed_at = loop.time()
        try:
            while (taken := await asyncio.to_thread(self._take)) is None:
                await asyncio.sleep(self.POLL_S)
                if loop.time() - renewed_at > self.WAITING_LEASE_S / 2:
                    await asyncio.to_thread(
                        self._store.renew, self._waiting_key, ticket, self.WAITING_LEASE_S
                    )
                    renewed_at = loop.time()
            return taken
        finally:  # a place taken, or the visitor gone while waiting
            await asyncio.to_thread(self._store.release, self._waiting_key, ticket)
