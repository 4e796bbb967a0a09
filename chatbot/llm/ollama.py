"""Ollama: the production backend, a server on the premises running any model it has pulled."""

from __future__ import annotations

import logging
import math
from collections.abc import Generator
from contextlib import closing
from typing import Any

import httpx
from langchain_core.messages import HumanMessage, SystemMessage

from chatbot.llm.base import ModelUnavailable

log = logging.getLogger(__name__)

# Ollama's own default context is small (2048-4096 tokens) and it silently cuts a longer prompt
# from the front, which drops the instructions. We always send num_ctx, sized to the prompt.
_CONTEXT_STEP = 1024


def full_tag(model: str) -> str:
    return model if ":" in model else f"{model}:latest"


class OllamaBackend:
    def __init__(
        self,
        host: str,
        model: str,
        *,
        max_context_tokens: int,
        timeout_s: float,
        temperature: float = 0.2,
    ) -> None:
        from langchain_ollama import ChatOllama

        self.host = host.rstrip("/")
        self.model_tag = full_tag(model)
        self._max_context = max_context_tokens
        self._model_context: int | None = None
        self._timeout = timeout_s
        self._temperature = temperature
        self.chat = ChatOllama(
            model=self.model_tag,
            base_url=self.host,
            temperature=temperature,
            client_kwargs={"timeout": timeout_s},
        )

    @property
    def name(self) -> str:
        return f"ollama:{self.model_tag}"

    @property
    def writes_from_sources(self) -> bool:
        return True  # the models people serve with Ollama are 1B+; the guard checks them

    @property
    def context_tokens(self) -> int:
        return min(self._max_context, self._model_context or self._max_context)

    def count_tokens(self, text: str) -> int:
        # Ollama has no tokenize endpoint. One token per three UTF-8 bytes overestimates English
        # (about four characters a token) and matches CJK (one character, three bytes, about a
        # token): overestimating only makes num_ctx a little larger than needed.
        return math.ceil(len(text.encode("utf-8")) / 3)

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
        if self.model_tag not in names:
            raise ModelUnavailable(
                f"the model {self.model_tag} is not pulled on Ollama at {self.host}; "
                f"run: ollama pull {self.model_tag}"
            )
        show = self._get("/api/show", method="POST", json={"model": self.model_tag})
        if show.status_code == 200:
            info = show.json().get("model_info") or {}
            lengths = [v for k, v in info.items() if k.endswith(".context_length")]
            if lengths:
                self._model_context = int(lengths[0])

    def stream(
        self, system: str, user: str, *, max_tokens: int, prompt_tokens: int
    ) -> Generator[str, None, None]:
        wanted = prompt_tokens + max_tokens
        num_ctx = min(self.context_tokens, math.ceil(wanted / _CONTEXT_STEP) * _CONTEXT_STEP)
        options = {"num_ctx": num_ctx, "num_predict": max_tokens, "temperature": self._temperature}
        messages = [SystemMessage(content=system), HumanMessage(content=user)]
        chunks = self.chat.stream(messages, options=options)
        try:
            # Closing this stream closes ChatOllama's, and so its HTTP response: Ollama stops
            # generating for a customer who has gone.
            with closing(chunks):  # type: ignore[type-var]  # a generator at run time
                for chunk in chunks:
                    yield str(chunk.content)
        except ModelUnavailable:
            raise
        except Exception as exc:  # httpx transport errors, ollama.ResponseError, a cut stream
            log.warning("Ollama at %s failed while answering: %r", self.host, exc)
            raise ModelUnavailable(f"Ollama at {self.host} failed: {exc}") from exc
