"""What an answer is: the text, whether the bot really answered, and what it was grounded on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from knowledge.documents import Hit

# Why the bot did not give a generated (or, in extract mode, quoted) answer.
Fallback = Literal[
    "no_match", "guard", "model_error", "store_error", "timeout", "not_ready", "empty", "too_long"
]
# What the customer was given: the model's answer, the sentence or row of a document that
# answers (an extract), the answer staff pinned, or a fallback ("I don't know", a refusal).
# The first three are answers; "smalltalk" is the reply to a greeting, thanks, a goodbye, "are
# you a bot?" or a request for a person: neither an answer nor a question the bot failed.
Kind = Literal["model", "extract", "pinned", "fallback", "smalltalk"]


@dataclass(frozen=True, slots=True)
class Source:
    source: str
    page: int | None
    section: str
    text: str
    score: float
    title: str = ""

    @classmethod
    def of(cls, hit: Hit) -> Source:
        return cls(hit.source, hit.page, hit.section, hit.text, hit.score, hit.title)

    @property
    def url(self) -> str | None:
        """The page's address, for a source read from a website (the customer can open it)."""
        return self.source if self.source.startswith(("https://", "http://")) else None

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "title": self.title or self.source,
            "page": self.page,
            "section": self.section,
            "text": self.text,
            "url": self.url,
        }

    def place(self) -> str:
        """The document's title, with the heading the passage stands under when that says more
        ("Gadget Care Penang price list · Battery replacement"): never a file name."""
        title = self.title or self.source
        heading = self.section.rsplit(" > ", 1)[-1].strip() if self.section else ""
        if heading and heading.casefold() not in title.casefold():
            return f"{title} · {heading}"
        return title

    def label(self) -> str:
        where = f", page {self.page}" if self.page else ""
        return f"{self.place()}{where}"


@dataclass(slots=True)
class Answer:
    question: str
    language: str
    asked: str = ""  # the question in the documents' spellings (knowledge.colloquial)
    text: str = ""
    answered: bool = False
    fallback: Fallback | None = None
    kind: Kind = "fallback"
    sources: list[Source] = field(default_factory=list)
    model: str | None = None
    prompt: str | None = None
    search_query: str = ""
    guard_reason: str = ""
    gate_features: dict[str, float] = field(default_factory=dict)  # the extract's, as weighed
    timings_ms: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "answer": self.text,
            "answered": self.answered,
            "fallback": self.fallback,
            "kind": self.kind,
            "language": self.language,
            "sources": [s.as_json() for s in self.sources],
            "model": self.model,
            "prompt": self.prompt,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


@dataclass(frozen=True, slots=True)
class Delta:
    """More answer text to show after what is shown."""

    text: str


@dataclass(frozen=True, slots=True)
class Replace:
    """Throw away what is shown and show this instead (the guard stopped the answer)."""

    text: str


@dataclass(frozen=True, slots=True)
class Done:
    answer: Answer


Event = Delta | Replace | Done
