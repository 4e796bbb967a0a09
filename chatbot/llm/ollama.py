"""Ollama: the production backend, a server on the premises running any model it has pulled."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any

import httpx
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_ollama import ChatOllama
from pydantic import Field, PrivateAttr

from chatbot.llm.base import ModelUnavailable, ServedModel, unavailable_on_failure

log = logging.getLogger(__name__)

# Ollama's own default context is small (2048-4096 tokens) and it silently cuts a longer prompt
# from the front, which drops the instructions. We always send num_ctx, sized to the prompt.
_CONTEXT_STEP = 1024
_DEFAULT_ANSWER_TOKENS = 256


def full_tag(model: str) -> str:
    return model if ":" in model else f"{model}:latest"


class OllamaChatModel(ServedModel, ChatOllama):
    """LangChain's ChatOllama, saying what it can do, sizing `num_ctx` to each prompt, and
    turning a server that fails into ModelUnavailable (the chain then answers without it).

    Call options: `max_tokens` (Ollama's num_predict) and `num_ctx`; without `num_ctx` the
    context is the prompt plus the answer, rounded up to 1024, at most the context window."""

    max_context_tokens: int = Field(
        default=8192, description="the largest num_ctx sent, however long the model's own"
    )
    # The models people serve with Ollama are 1B+; the guard checks what they write.
    writes_from_sources: bool = True
    _model_context: int | None = PrivateAttr(default=None)

    @classmethod
    def for_model(cls, host: str, model: str, **fields: Any) -> OllamaChatModel:
        timeout_s = fields.pop("timeout_s", 60.0)
        return cls(
            model=full_tag(model),
            base_url=host.rstrip("/"),
            client_kwargs={"timeout": timeout_s},
            **fields,
        )

    @property
    def host(self) -> str:
        return (self.base_url or "http://127.0.0.1:11434").rstrip("/")

    @property
    def label(self) -> str:
        return f"ollama:{self.model}"

    @property
    def context_window(self) -> int:
        return min(self.max_context_tokens, self._model_context or self.max_context_tokens)

    def _get(self, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return httpx.request(
                kwargs.pop("method", "GET"), f"{self.host}{path}", timeout=5, **kwargs
            )
        except httpx.HTTPError as exc:
            raise ModelUnavailable(f"Ollama at {self.host} is not reachable ({exc})") from exc

    def check(self) -> None:
        """The server answers and has the model; learns the model's context length."""
        response = self._get("/api/tags")
        if response.status_code != 200:
            raise ModelUnavailable(f"Ollama at {self.host} answered {response.status_code}")
        names = {full_tag(m.get("name", "")) for m in response.json().get("models", [])}
        if self.model not in names:
            raise ModelUnavailable(
                f"the model {self.model} is not pulled on Ollama at {self.host}; "
                f"run: ollama pull {self.model}"
            )
        show = self._get("/api/show", method="POST", json={"model": self.model})
        if show.status_code == 200:
            info = show.json().get("model_info") or {}
            lengths = [v for k, v in info.items() if k.endswith(".context_length")]
            if lengths:
                self._model_context = int(lengths[0])

    def _chat_params(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        max_tokens = kwargs.pop("max_tokens", None)
        num_ctx = kwargs.pop("num_ctx", None)
        params = super()._chat_params(messages, stop, **kwargs)
        options = dict(params.get("options") or {})
        if max_tokens is not None:
            options["num_predict"] = int(max_tokens)
        if num_ctx is None:
            wanted = self.get_num_tokens_from_messages(messages) + int(
                options.get("num_predict") or _DEFAULT_ANSWER_TOKENS
            )
            num_ctx = min(self.context_window, math.ceil(wanted / _CONTEXT_STEP) * _CONTEXT_STEP)
        options["num_ctx"] = int(num_ctx)
        params["options"] = options
        return params

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        chunks = super()._stream(messages, stop, run_manager, **kwargs)
        yield from unavailable_on_failure(chunks, f"Ollama at {self.host}")
