"""Any OpenAI-compatible server on the premises: llama.cpp's server, vLLM, LM Studio, LocalAI.

Many small businesses already run one; this is langchain-openai's ChatOpenAI pointed at it, with
what the chain needs to know of the model, and the classic request fields every such server reads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_openai import ChatOpenAI
from pydantic import Field, SecretStr

from chatbot.llm.base import (
    ModelUnavailable,
    ServedModel,
    estimated_prompt_tokens,
    unavailable_on_failure,
)

log = logging.getLogger(__name__)


class OpenAICompatibleModel(ServedModel, ChatOpenAI):
    """Call options: `max_tokens`. The context window is what the server was started with (it
    cannot be asked): `model.openai_context_tokens`."""

    context_tokens: int = Field(default=4096, ge=512)

    @property
    def base(self) -> str:
        return (self.openai_api_base or "").rstrip("/")

    @property
    def label(self) -> str:
        return f"openai:{self.model_name}"

    @property
    def context_window(self) -> int:
        return self.context_tokens

    def get_num_tokens_from_messages(
        self, messages: Sequence[BaseMessage], *_: Any, **__: Any
    ) -> int:
        # ChatOpenAI's own count needs tiktoken's encodings, fetched from the internet; the
        # model behind a local server is not an OpenAI model anyway.
        return estimated_prompt_tokens(messages)

    def check(self) -> None:
        """The server answers and serves the model (when it lists its models)."""
        try:
            reply = httpx.get(f"{self.base}/models", timeout=5, headers=self._auth())
        except httpx.HTTPError as exc:
            raise ModelUnavailable(
                f"the model server at {self.base} is not reachable ({exc})"
            ) from exc
        if reply.status_code != 200:
            raise ModelUnavailable(f"the model server at {self.base} answered {reply.status_code}")
        try:
            served = [str(m.get("id")) for m in reply.json().get("data", [])]
        except (ValueError, AttributeError):
            served = []
        if served and self.model_name not in served:
            raise ModelUnavailable(
                f"the model server at {self.base} does not serve {self.model_name!r};"
                f" it serves: {', '.join(served)} (set model.openai_model)"
            )

    def _auth(self) -> dict[str, str]:
        secret = self.openai_api_key
        key = secret.get_secret_value() if isinstance(secret, SecretStr) else ""
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _get_request_payload(
        self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        # ChatOpenAI sends OpenAI's newer `max_completion_tokens`, which llama.cpp's Python
        # server (and others) ignore: an answer would run to the end of the context.
        if "max_completion_tokens" in payload:
            payload["max_tokens"] = payload.pop("max_completion_tokens")
        return dict(payload)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        chunks = super()._stream(messages, stop, run_manager, **kwargs)
        yield from unavailable_on_failure(chunks, f"the model server at {self.base}")
