"""How an answer to a test question scores, as a customer would judge it:

- right: an answer (not a fallback) that shows an expected fact, from the expected document;
- wrong: an answer shown that is not right (no expected fact, another document, or any answer
  to a question the documents do not answer): the figure that matters most;
- fallback: "I don't know" (or another fallback) instead of an answer; for a question out of
  scope that is the right outcome;
- withheld: the model's answer was stopped by the guard, and the customer got the extract or a
  fallback instead.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chatbot.evaluation.questions import TestQuestion


def plain(text: str) -> str:
    """Compared without spaces or case: "RM 150" is "rm150"."""
    return re.sub(r"\s+", "", text).casefold()


@dataclass(slots=True)
class Outcome:
    question: TestQuestion
    text: str  # what the customer would have seen
    answered: bool
    kind: str  # model, extract, pinned, fallback
    fallback: str | None
    sources: list[str]  # the documents the answer names, first the one it comes from
    withheld: str | None = None  # the guard's reason, when it stopped the model's answer
    timings: dict[str, float] = field(default_factory=dict)
    tokens: int = 0  # the model's tokens for the answer (0: none asked)

    @property
    def fact_shown(self) -> bool:
        shown = plain(self.text)
        return any(plain(fact) in shown for fact in self.question.expect)

    @property
    def right(self) -> bool:
        q = self.question
        return (
            q.answerable
            and self.answered
            and self.fact_shown
            and (q.source is None or q.source in self.sources)
        )

    @property
    def wrong(self) -> bool:
        return self.answered and not self.right

    @property
    def verdict(self) -> str:
        if self.right:
            return "right"
        if self.wrong:
            if not self.question.answerable:
                return "wrong: answered a question the documents do not answer"
            if not self.fact_shown:
                return "wrong: the answer does not hold the expected fact"
            given = self.sources[0] if self.sources else "no document"
            return f"wrong: from {given}, not the expected one"
        if self.question.answerable:
            return f"fallback ({self.fallback}) where the documents answer it"
        return "right to say it does not know"

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question.as_json(),
            "shown": self.text,
            "kind": self.kind,
            "fallback": self.fallback,
            "sources": self.sources,
            "withheld": self.withheld,
            "verdict": self.verdict,
            "timings_ms": {k: round(v, 1) for k, v in self.timings.items()},
        }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1)


def summary(outcomes: Iterable[Outcome], model_seconds: float = 0.0) -> dict[str, Any]:
    """Counts and rates over `outcomes`, named as `chatbot eval --json` prints them."""
    chosen = list(outcomes)
    answerable = [o for o in chosen if o.question.answerable]
    out_of_scope = [o for o in chosen if not o.question.answerable]
    answered = [o for o in chosen if o.answered]
    # When text first reached the screen: once checked (auto), or at the first token streamed
    # unchecked (generate), or with the whole answer (an extract, a fallback).
    shown = [
        o.timings.get("shown", o.timings.get("first_token", o.timings.get("total", 0.0)))
        for o in chosen
    ]
    total = [o.timings.get("total", 0.0) for o in chosen]
    tokens = sum(o.tokens for o in chosen)
    return {
        "questions": len(chosen),
        "answerable": len(answerable),
        "right": sum(o.right for o in answerable),
        "wrong": sum(o.wrong for o in chosen),
        "fallback": sum(not o.answered for o in chosen),
        "withheld": sum(bool(o.withheld) for o in chosen),
        "out_of_scope_fallbacks": sum(not o.answered for o in out_of_scope),
        "out_of_scope": len(out_of_scope),
        "right_rate": round(sum(o.right for o in answerable) / len(answerable), 3)
        if answerable
        else None,
        "wrong_rate": round(sum(o.wrong for o in chosen) / len(chosen), 3) if chosen else None,
        "median_chars": _median([float(len(o.text)) for o in answered]),
        "first_shown_ms": {"median": _median(shown), "p95": _p95(shown)},
        "total_ms": {"median": _median(total), "p95": _p95(total)},
        "tokens_per_s": round(tokens / model_seconds, 1) if tokens and model_seconds else None,
    }


def by_language(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    languages = sorted({o.question.language for o in outcomes})
    return {lang: summary(o for o in outcomes if o.question.language == lang) for lang in languages}
