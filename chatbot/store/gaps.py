"""What the bot could not answer, grouped when customers asked the same thing, most asked
first, each with the conversations it came from: where staff should write an answer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)
# Two questions whose embeddings are this close are taken to ask the same thing: cautious, as
# merging two different questions would hide one of them from staff. Identical wordings (case,
# punctuation and spacing aside) always group, in any language.
SAME_THING = 0.88


@dataclass(slots=True)
class Gap:
    question: str  # the most recent wording
    asked: int = 0
    last_asked: float = 0.0
    wordings: list[str] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)  # newest first


def normalise(question: str) -> str:
    text = unicodedata.normalize("NFKC", question).casefold()
    return " ".join(_NOT_WORD.sub(" ", text).split())


def group_gaps(
    rows: Sequence[dict[str, Any]],
    embed: Callable[[list[str]], list[list[float]]],
    pinned: Sequence[tuple[str, float]] = (),
) -> list[Gap]:
    """`rows`: newest first, with question, created_at and conversation_id. `pinned`: staff's
    pinned answers (question, when pinned). A question asked before an answer to the same thing
    was pinned is closed: staff answered it, and leaving it among the open ones would have them
    answer it again. One asked after the pin is still open: that wording missed the pin."""
    groups: list[Gap] = []
    by_text: dict[str, Gap] = {}
    vectors: list[list[float]] = []
    distinct = list(dict.fromkeys(normalise(r["question"]) for r in rows if r["question"]))
    pins = [(normalise(q), at) for q, at in pinned if normalise(q)]
    asked = distinct + [q for q, _ in pins if q not in distinct]
    embedded = dict(zip(asked, embed(asked), strict=True)) if asked else {}
    for row in rows:
        key = normalise(row["question"])
        if not key or _pinned_since(key, row["created_at"], pins, embedded):
            continue
        gap = by_text.get(key)
        if gap is None:
            vector = embedded[key]
            gap = next(
                (
                    g
                    for g, v in zip(groups, vectors, strict=True)
                    if _cosine(v, vector) >= SAME_THING
                ),
                None,
            )
            if gap is None:
                gap = Gap(question=row["question"], last_asked=row["created_at"])
                groups.append(gap)
                vectors.append(vector)
            by_text[key] = gap
        gap.asked += 1
        if row["question"] not in gap.wordings:
            gap.wordings.append(row["question"])
        conversation = row.get("conversation_id")
        if conversation and conversation not in gap.conversations:
            gap.conversations.append(conversation)
    groups.sort(key=lambda g: (g.asked, g.last_asked), reverse=True)
    return groups


def _pinned_since(
    key: str, asked_at: float, pins: list[tuple[str, float]], embedded: dict[str, list[float]]
) -> bool:
    return any(
        at >= asked_at and (pin == key or _cosine(embedded[pin], embedded[key]) >= SAME_THING)
        for pin, at in pins
    )


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = (sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5
    return dot / norm if norm else 0.0
