"""An evaluation run: every test question asked of every candidate through the bot's own
answering chain (its knowledge, prompts and profile), nothing recorded as a customer's: no
conversation, rating or chart sees it. Questions are asked one at a time, so an Ollama server
shared with live customers serves the evaluation's requests in turn with theirs."""

from __future__ import annotations

import json
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from chatbot.answering.chain import Answerer, Turn
from chatbot.evaluation.candidates import Candidate
from chatbot.evaluation.questions import TestQuestion
from chatbot.evaluation.scoring import Outcome, by_language, summary
from chatbot.llm.base import label
from chatbot.services import Services
from knowledge.errors import KnowledgeError

# Reasons the chain gives for not showing the model's answer that are not the guard's verdict.
_NOT_THE_GUARD = ("", "model unavailable", "past max_generation_s")


class Meter(BaseCallbackHandler):
    """Tokens the models produced and the seconds spent in them (for tokens per second)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: dict[UUID, float] = {}
        self.tokens = 0
        self.seconds = 0.0

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **_: Any
    ) -> None:
        with self._lock:
            self._started[run_id] = time.perf_counter()

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **_: Any) -> None:
        if token:
            with self._lock:
                self.tokens += 1

    def _end(self, run_id: UUID) -> None:
        with self._lock:
            began = self._started.pop(run_id, None)
            if began is not None:
                self.seconds += time.perf_counter() - began

    def on_llm_end(self, response: Any, *, run_id: UUID, **_: Any) -> None:
        self._end(run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **_: Any) -> None:
        self._end(run_id)


@dataclass
class CandidateResult:
    candidate: Candidate
    outcomes: list[Outcome]
    model_seconds: float
    peak_memory_mb: float

    def as_json(self) -> dict[str, Any]:
        c = self.candidate
        return {
            "candidate": c.label,
            "model": label(c.model) if c.model is not None else None,
            "mode": c.mode,
            "details": c.details | {"peak_memory_mb": self.peak_memory_mb},
            **summary(self.outcomes, self.model_seconds),
            "by_language": by_language(self.outcomes),
            "outcomes": [o.as_json() for o in self.outcomes],
        }


def ask(answerer: Answerer, question: TestQuestion, meter: Meter) -> Outcome:
    """The question as a customer would ask it: its earlier turns first, each answered."""
    history: list[Turn] = []
    tokens_before = meter.tokens
    answer = None
    for turn in question.turns:
        answer = answerer.answer(turn, history)
        history.append(Turn(turn, answer.text))
    assert answer is not None  # a question has at least one turn
    return Outcome(
        question,
        answer.text,
        answer.answered,
        answer.kind,
        answer.fallback,
        [s.source for s in answer.sources],
        answer.guard_reason if answer.guard_reason not in _NOT_THE_GUARD else None,
        dict(answer.timings_ms),
        meter.tokens - tokens_before,
    )


def evaluate(
    services: Services,
    bot: str,
    questions: list[TestQuestion],
    candidates: list[Candidate],
    meter: Meter,
    progress: Callable[[str, int, int], None] = lambda *_: None,
) -> list[CandidateResult]:
    if not services.knowledge(bot).documents():
        raise KnowledgeError(f"bot {bot!r} has no documents: ingest some before evaluating it")
    results = []
    profile = services.profile(bot)
    for candidate in candidates:
        settings = services.settings.answering
        mode = candidate.mode or (
            profile.answer_mode if profile.answer_mode != "default" else settings.mode
        )
        answerer = Answerer(
            knowledge=services.knowledge(bot),
            model=None if mode == "extract" else candidate.model,
            prompts=services.prompts,
            profile=profile,
            settings=settings.model_copy(update={"mode": mode}),
        )
        seconds_before = meter.seconds
        outcomes = []
        for done, question in enumerate(questions):
            progress(candidate.label, done, len(questions))
            outcomes.append(ask(answerer, question, meter))
        progress(candidate.label, len(questions), len(questions))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
        results.append(
            CandidateResult(candidate, outcomes, meter.seconds - seconds_before, round(peak))
        )
    return results


def save_run(
    folder: Path, bot: str, source: str, results: list[CandidateResult]
) -> tuple[Path, dict[str, Any]]:
    """Kept, one file per run, so a business sees whether new documents made its bot better."""
    at = time.time()
    run = {
        "bot": bot,
        "at": at,
        "questions_from": source,
        "candidates": [r.as_json() for r in results],
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime(at))}.json"
    path.write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
    return path, run
