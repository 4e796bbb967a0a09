"""The model seam: a LangChain `BaseChatModel`, and what the answering chain needs to know of it.

Every backend (the embedded llama.cpp model, Ollama, an OpenAI-compatible server) is a LangChain
chat model: it streams with `stream(messages, max_tokens=...)`, counts a prompt's tokens with
`get_num_tokens_from_messages`, and takes its context size as a call option where the server
has one (`num_ctx` for Ollama). What LangChain's interface does not say, our backends say through
`ServedModel`'s attributes; any other LangChain chat model gets the conservative defaults below.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import BaseModel, Field

from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)

DEFAULT_CONTEXT_TOKENS = 4096


class ModelUnavailable(KnowledgeError):
    """The model cannot answer now (server down, model missing); the message says what to do."""


def unavailable_on_failure(
    chunks: Iterator[ChatGenerationChunk], server: str
) -> Iterator[ChatGenerationChunk]:
    """A model server's stream, any failure of it (transport errors, an error status, a stream
    cut midway) raised as ModelUnavailable: the chain then answers without the model. Closing
    this generator closes the server's stream, and so its HTTP response: the server stops
    generating for a customer who has gone."""
    try:
        yield from chunks
    except ModelUnavailable:
        raise
    except Exception as exc:  # httpx, ollama.ResponseError, openai.APIError, ...
        log.warning("%s failed while answering: %r", server, exc)
        raise ModelUnavailable(f"{server} failed: {exc}") from exc


class ServedModel(BaseModel):
    """What one of our backends says of itself. Mixed in *before* the LangChain class, so that
    its token estimate replaces LangChain's default (which would fetch GPT-2's tokenizer)."""

    writes_from_sources: bool = Field(
        default=True,
        description=(
            "Whether the model can be trusted to write an answer from passages. A model of a few "
            "billion parameters can; SmolLM2-135M cannot (on the demo shop its answers that "
            "passed the guard still said 'I do not deliver to Seberang Perai', which the shop "
            "does), so in auto mode it is not asked and the extract answers."
        ),
    )

    @property
    def context_window(self) -> int:
        """The most tokens (prompt plus answer) one request may use."""
        return DEFAULT_CONTEXT_TOKENS

    @property
    def label(self) -> str:
        """What answered, stored with each answer: e.g. `ollama:qwen2.5:3b`."""
        return type(self).__name__

    def check(self) -> None:
        """Raises ModelUnavailable when the model cannot answer (for start-up and /readyz)."""

    def servers(self) -> dict[str, str]:
        """Where a model is served by several servers: each one's address, and "up" or why it
        is not (for /readyz); none for a model that is served one way."""
        return {}

    def get_num_tokens(self, text: str) -> int:
        return estimated_tokens(text)


def estimated_tokens(text: str) -> int:
    """Tokens of `text` when no tokenizer is at hand (Ollama and most OpenAI-compatible servers
    have no tokenize endpoint). One token per three UTF-8 bytes overestimates English (about four
    characters a token) and matches CJK (one character, three bytes, about a token):
    overestimating only leaves a little of the context window unused."""
    return math.ceil(len(text.encode("utf-8")) / 3)


def estimated_prompt_tokens(messages: Sequence[BaseMessage]) -> int:
    """A prompt's tokens by estimate: each message's text and a few for its role's markup."""
    return sum(estimated_tokens(str(m.content)) + 4 for m in messages)


def prompt_tokens(model: BaseChatModel, messages: list[BaseMessage]) -> int:
    if isinstance(model, ServedModel):
        return int(model.get_num_tokens_from_messages(messages))
    return estimated_prompt_tokens(messages)


def context_window(model: BaseChatModel) -> int:
    return model.context_window if isinstance(model, ServedModel) else DEFAULT_CONTEXT_TOKENS


def writes_from_sources(model: BaseChatModel) -> bool:
    # A chat model from elsewhere (a developer's own) is trusted to write; the guard checks it.
    return model.writes_from_sources if isinstance(model, ServedModel) else True


def label(model: BaseChatModel) -> str:
    return model.label if isinstance(model, ServedModel) else type(model).__name__


def check(model: BaseChatModel) -> None:
    if isinstance(model, ServedModel):
        model.check()


def servers(model: BaseChatModel) -> dict[str, str]:
    return model.servers() if isinstance(model, ServedModel) else {}
