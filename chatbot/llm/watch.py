"""Which generations are in flight and when each last produced a token, for /readyz.

A request that waits on a stuck model (a hung Ollama, an embedded model held by another
request) looks healthy from outside: the process is up and the model loads. Watching the
generations themselves is what tells an operator, or the orchestrator, that answers stopped.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Generator
from contextlib import closing
from typing import Any

from chatbot.llm.base import ChatBackend


class GenerationWatch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_token: dict[int, float] = {}  # generation -> when it last made progress
        self._ids = itertools.count()

    def watched(self, backend: ChatBackend) -> ChatBackend:
        """`backend`, its generations watched."""
        return _Watched(backend, self)

    def longest_silence_s(self) -> float:
        """How long the quietest generation in flight has gone without a token; 0 if none."""
        now = time.monotonic()
        with self._lock:
            return max((now - t for t in self._last_token.values()), default=0.0)

    def _begin(self) -> int:
        key = next(self._ids)
        self._progress(key)
        return key

    def _progress(self, key: int) -> None:
        with self._lock:
            self._last_token[key] = time.monotonic()

    def _end(self, key: int) -> None:
        with self._lock:
            self._last_token.pop(key, None)


class _Watched:
    """A ChatBackend whose streams report to the watch; everything else is the backend's."""

    def __init__(self, inner: ChatBackend, watch: GenerationWatch) -> None:
        self._inner, self._watch = inner, watch

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def context_tokens(self) -> int:
        return self._inner.context_tokens

    @property
    def writes_from_sources(self) -> bool:
        return self._inner.writes_from_sources

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def check(self) -> None:
        self._inner.check()

    def stream(
        self, system: str, user: str, *, max_tokens: int, prompt_tokens: int
    ) -> Generator[str, None, None]:
        key = self._watch._begin()  # from the request on: a wait for the model counts
        try:
            deltas = self._inner.stream(
                system, user, max_tokens=max_tokens, prompt_tokens=prompt_tokens
            )
            with closing(deltas):
                for delta in deltas:
                    self._watch._progress(key)
                    yield delta
        finally:
            self._watch._end(key)

    def __getattr__(self, name: str) -> Any:  # the backend's own extras (bench resets llama.cpp)
        return getattr(self._inner, name)
