"""Which generations are in flight and when each last produced a token, for /readyz.

A request that waits on a stuck model (a hung Ollama, an embedded model held by another
request) looks healthy from outside: the process is up and the model loads. Watching the
generations themselves is what tells an operator, or the orchestrator, that answers stopped.

The watch is a LangChain callback handler given to every chat model the server builds: LangChain
reports a generation's start before the model is asked (so a wait for a busy model counts), each
token, and its end, also when the stream is closed early (GeneratorExit ends it as an error).
"""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler


class GenerationWatch(BaseCallbackHandler):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_token: dict[UUID, float] = {}  # generation -> when it last made progress

    def longest_silence_s(self) -> float:
        """How long the quietest generation in flight has gone without a token; 0 if none."""
        now = time.monotonic()
        with self._lock:
            return max((now - t for t in self._last_token.values()), default=0.0)

    def _progress(self, run_id: UUID) -> None:
        with self._lock:
            self._last_token[run_id] = time.monotonic()

    def _end(self, run_id: UUID) -> None:
        with self._lock:
            self._last_token.pop(run_id, None)

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **_: Any
    ) -> None:
        self._progress(run_id)

    def on_llm_start(self, serialized: Any, prompts: Any, *, run_id: UUID, **_: Any) -> None:
        self._progress(run_id)

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **_: Any) -> None:
        self._progress(run_id)

    def on_llm_end(self, response: Any, *, run_id: UUID, **_: Any) -> None:
        self._end(run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **_: Any) -> None:
        self._end(run_id)
