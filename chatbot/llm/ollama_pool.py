"""Several Ollama servers serving the same model, as one LangChain chat model.

Each answer goes to the next server that is up (round robin). A server that fails before its
first token (down, unreachable, the model not pulled) is left out for `retry_after_s` and the
answer is asked of the next one, so a customer never notices; one that fails in the middle of an
answer cannot be switched (the customer has read half of it) and fails as one server does (the
chain answers with the passage instead), and is left out of the next answers too. /readyz lists
each server and whether it is up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr, model_validator

from chatbot.llm.base import ModelUnavailable, ServedModel
from chatbot.llm.ollama import OllamaChatModel, full_tag

log = logging.getLogger(__name__)


class OllamaPool(ServedModel, BaseChatModel):
    hosts: list[str] = Field(min_length=1, description="The servers' URLs.")
    model: str = Field(description="The model tag every server has pulled.")
    retry_after_s: float = Field(default=30.0, gt=0, description="How long a failed one is out.")
    max_context_tokens: int = 8192
    timeout_s: float = 60.0
    temperature: float | None = None
    writes_from_sources: bool = True
    _members: list[OllamaChatModel] = PrivateAttr(default_factory=list)
    _out_until: dict[str, tuple[float, str]] = PrivateAttr(default_factory=dict)
    _turn: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @model_validator(mode="after")
    def _build_members(self) -> OllamaPool:
        # The members have no callbacks of their own: the pool's run manager reports tokens once.
        self._members = [
            OllamaChatModel.for_model(
                host,
                self.model,
                max_context_tokens=self.max_context_tokens,
                timeout_s=self.timeout_s,
                temperature=self.temperature,
            )
            for host in self.hosts
        ]
        return self

    @property
    def _llm_type(self) -> str:
        return "ollama-pool"

    @property
    def label(self) -> str:
        return f"ollama:{full_tag(self.model)}"

    @property
    def context_window(self) -> int:
        return min(member.context_window for member in self._members)

    def get_num_tokens_from_messages(self, messages: list[BaseMessage], tools: Any = None) -> int:
        return self._members[0].get_num_tokens_from_messages(messages)

    # -- which server ---------------------------------------------------------------------
    def _order(self) -> list[OllamaChatModel]:
        """The servers to try for the next answer: those up, starting after the last one
        used; then those left out, soonest back first (all may have come back)."""
        now = time.monotonic()
        with self._lock:
            start, self._turn = self._turn, self._turn + 1
            rotated = self._members[start % len(self._members) :]
            rotated += self._members[: start % len(self._members)]
            up = [m for m in rotated if self._out_until.get(m.host, (0.0, ""))[0] <= now]
            out = sorted(
                (m for m in rotated if m not in up), key=lambda m: self._out_until[m.host][0]
            )
        return up + out

    def _failed(self, member: OllamaChatModel, why: str) -> None:
        log.warning("Ollama at %s left out for %g s: %s", member.host, self.retry_after_s, why)
        with self._lock:
            self._out_until[member.host] = (time.monotonic() + self.retry_after_s, why)

    def _answered(self, member: OllamaChatModel) -> None:
        with self._lock:
            self._out_until.pop(member.host, None)

    def servers(self) -> dict[str, str]:
        """Each server: "up", or why it is left out (as the last answer or check found it)."""
        now, status = time.monotonic(), {}
        with self._lock:
            for member in self._members:
                until, why = self._out_until.get(member.host, (0.0, ""))
                status[member.host] = why if until > now else "up"
        return status

    def check(self) -> None:
        """Asks every server; raises only when none can answer."""
        reasons = []
        for member in self._members:
            try:
                member.check()
            except ModelUnavailable as exc:
                self._failed(member, str(exc))
                reasons.append(str(exc))
            else:
                self._answered(member)
        if len(reasons) == len(self._members):
            raise ModelUnavailable("no Ollama server can answer: " + "; ".join(reasons))

    # -- answering ------------------------------------------------------------------------
    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reasons = []
        for member in self._order():
            chunks = member._stream(messages, stop, run_manager, **kwargs)
            try:
                first = next(chunks)
            except StopIteration:
                self._answered(member)
                return
            except ModelUnavailable as exc:  # before the first token: the next one is asked
                self._failed(member, str(exc))
                reasons.append(str(exc))
                continue
            self._answered(member)
            yield first
            try:  # a failure from here on fails this answer (half of it has been read) ...
                yield from chunks
            except ModelUnavailable as exc:
                self._failed(member, str(exc))  # ... and leaves the server out of the next
                raise
            return
        raise ModelUnavailable("no Ollama server answered: " + "; ".join(reasons))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
