"""The turns of conversations in progress, as the customer wrote them, in memory only.

What is stored is masked (privacy/masking.py) and a conversation the customer chose not to keep
is not stored at all; but a follow-up question ("and its price?") needs the turns before it as
they were. They live here, in the server's memory, for as long as the conversation is active;
or, where several servers answer (any of them may get the next message), in the store they
share, encrypted with a key of the data directory's (so that a Redis snapshot or PostgreSQL's
files never hold them readable) and expiring as the memory's do.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict

from chatbot.privacy.keys import Sealer
from chatbot.shared_state import SharedStore


class LiveConversations:
    def __init__(self, max_conversations: int = 5000, idle_s: float = 3600.0) -> None:
        self._turns: OrderedDict[str, tuple[float, list[tuple[str, str]]]] = OrderedDict()
        self._max, self._idle_s = max_conversations, idle_s
        self._lock = threading.Lock()

    def turns(self, conversation_id: str) -> list[tuple[str, str]] | None:
        """The turns so far, or None if the conversation is not (or no longer) in memory."""
        with self._lock:
            entry = self._turns.get(conversation_id)
            if entry is None or entry[0] < time.monotonic() - self._idle_s:
                return None
            return list(entry[1])

    def add(self, conversation_id: str, question: str, answer: str) -> None:
        with self._lock:
            _, turns = self._turns.pop(conversation_id, (0.0, []))
            turns.append((question, answer))
            self._turns[conversation_id] = (time.monotonic(), turns)
            while len(self._turns) > self._max:
                self._turns.popitem(last=False)  # the least recently active goes first

    def drop(self, conversation_id: str) -> None:
        with self._lock:
            self._turns.pop(conversation_id, None)

    def forget_idle(self) -> None:
        """Let go of conversations idle for longer than `idle_s`."""
        cutoff = time.monotonic() - self._idle_s
        with self._lock:
            for conversation_id in [c for c, (at, _) in self._turns.items() if at < cutoff]:
                del self._turns[conversation_id]


class SharedLiveConversations:
    """The same, in a store every server shares. A conversation's turns are one value, replaced
    at each answer (a customer waits for one answer before sending the next)."""

    def __init__(self, store: SharedStore, key: bytes, idle_s: float = 3600.0) -> None:
        self._store, self._sealer, self._idle_s = store, Sealer(key), idle_s

    def _key(self, conversation_id: str) -> str:
        return f"live:{conversation_id}"

    def turns(self, conversation_id: str) -> list[tuple[str, str]] | None:
        sealed = self._store.get(self._key(conversation_id))
        if sealed is None:
            return None
        # Bound to its conversation: one's turns cannot be passed off as another's; sealed by a
        # server with another key, as if not in memory.
        opened = self._sealer.open(sealed, conversation_id)
        return None if opened is None else [(q, a) for q, a in json.loads(opened)]

    def add(self, conversation_id: str, question: str, answer: str) -> None:
        turns = self.turns(conversation_id) or []
        turns.append((question, answer))
        plain = json.dumps(turns, ensure_ascii=False).encode()
        sealed = self._sealer.seal(plain, conversation_id)
        self._store.put(self._key(conversation_id), sealed, self._idle_s)

    def drop(self, conversation_id: str) -> None:
        self._store.delete(self._key(conversation_id))

    def forget_idle(self) -> None:
        self._store.sweep()
