"""What the answering chain needs of a chat model, whichever backend serves it."""

from __future__ import annotations

from collections.abc import Generator
from typing import Protocol

from knowledge.errors import KnowledgeError


class ModelUnavailable(KnowledgeError):
    """The model cannot answer now (server down, model missing); the message says what to do."""


class ChatBackend(Protocol):
    """A chat model with a known context window. `stream` yields text as it is generated."""

    @property
    def name(self) -> str:
        """What answered, stored with each answer: e.g. `ollama:qwen2.5:3b`."""
        ...

    @property
    def context_tokens(self) -> int:
        """The most tokens (prompt plus answer) one request may use."""
        ...

    @property
    def writes_from_sources(self) -> bool:
        """Whether the model can be trusted to write an answer from passages: a model of a few
        billion parameters can; SmolLM2-135M cannot (on the demo shop its answers that passed
        the guard still said "I do not deliver to Seberang Perai", which the shop does), so in
        auto mode its answers are not asked for and the extract answers."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def stream(
        self, system: str, user: str, *, max_tokens: int, prompt_tokens: int
    ) -> Generator[str, None, None]:
        """Raises ModelUnavailable when the model cannot be reached, also midway. Closing the
        generator before its end stops the generation and frees the model at once."""
        ...

    def check(self) -> None:
        """Raises ModelUnavailable when the backend cannot answer (for /readyz)."""
        ...
