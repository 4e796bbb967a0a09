"""An evaluation run: every test question asked of every candidate through the bot's own
answering chain (its knowledge, prompts and profile), nothing recorded as a customer's: no
conversation, rating or chart sees it. Questions are asked one at a time, so an Ollama server
shared with live customers serves the evaluation's requests in turn with theirs."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from langchain_core.callbacks import BaseCallbackHandler

from chatbot.answering.chain import Answerer, Turn
from chatbot.evaluation.candidates import Candidate, unload
from chatbot.evaluation.history import kept_runs
from chatbot.evaluation.questions import TestQuestion
from chatbot.evaluation.scoring import Outcome, by_language, summary
from chatbot.llm.base import label
from chatbot.services import Services
from knowledge.errors import KnowledgeError

# Reasons the chain gives for not showing the model's answer that are not the guard's verdict.
_NOT_THE_GUARD = ("", "model unavailable", "past max_generation_s")


_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 1e6


def resident_mb() -> float:
    """This process's resident memory now (Linux's /proc; 0 where there is none)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE_MB
    except (OSError, IndexError, ValueError):
        return 0.0


class Meter(BaseCallbackHandler):
    """Tokens the models produced, the seconds spent in them (for tokens per second) and the
    most memory this process held at the end of a generation (when the model's weights it
    touched and its caches are all resident)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: dict[UUID, float] = {}
        self.tokens = 0
        self.seconds = 0.0
        self.peak_mb = 0.0
        self.generations = 0

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **_: Any
    ) -> None:
        with self._lock:
            self._started[run_id] = time.perf_counter()
            self.generations += 1

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **_: Any) -> None:
        if token:
            with self._lock:
                self.tokens += 1

    def _end(self, run_id: UUID) -> None:
        with self._lock:
            began = self._started.pop(run_id, None)
            if began is not None:
                self.seconds += time.perf_counter() - began
            self.peak_mb = max(self.peak_mb, resident_mb())

    def on_llm_end(self, response: Any, *, run_id: UUID, **_: Any) -> None:
        self._end(run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **_: Any) -> None:
        self._end(run_id)


@dataclass
class CandidateResult:
    candidate: Candidate
    outcomes: list[Outcome]
    model_seconds: float
    memory_mb: int | None  # what the model took while it answered; None: not known

    def as_json(self) -> dict[str, Any]:
        c = self.candidate
        return {
            "candidate": c.label,
            "model": label(c.model) if c.model is not None else None,
            "mode": c.mode,
            "details": c.details | {"memory_mb": self.memory_mb},
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
    # The embedder and the stores load at the first search: done before any candidate is
    # timed, or the first one would pay seconds the others do not.
    services.knowledge(bot).search(questions[0].question if questions else "hello")
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
        meter.peak_mb = before_mb = resident_mb()  # its model not loaded yet (build unloads)
        generations_before = meter.generations
        outcomes = []
        for done, question in enumerate(questions):
            progress(candidate.label, done, len(questions))
            outcomes.append(ask(answerer, question, meter))
        progress(candidate.label, len(questions), len(questions))
        used = meter.generations > generations_before  # (auto may never ask a small model)
        host = services.settings.model.ollama_host
        memory = _memory_of(candidate, host, before_mb, meter) if used else None
        unload(candidate.model)  # the next candidate measured without this one's weights
        results.append(CandidateResult(candidate, outcomes, meter.seconds - seconds_before, memory))
    return results


def _memory_of(
    candidate: Candidate, ollama_host: str, before_mb: float, meter: Meter
) -> int | None:
    """An in-process model's: what this process grew by while it answered. An Ollama model's:
    what the server says it holds in memory (/api/ps), since it runs in the server's process."""
    if candidate.model is None:
        return None
    kind = label(candidate.model).partition(":")[0]
    if kind == "llamacpp":
        return round(max(meter.peak_mb - before_mb, 0.0))
    if kind == "ollama":
        name = getattr(candidate.model, "model", "")
        try:
            loaded = httpx.get(f"{ollama_host.rstrip('/')}/api/ps", timeout=5).json()["models"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None
        size = next((m.get("size") for m in loaded if m.get("name") == name), None)
        return round(size / 1e6) if isinstance(size, int) else None
    return None  # another server's memory is not ours to see


def save_run(
    folder: Path, bot: str, source: str, results: list[CandidateResult]
) -> tuple[Path, dict[str, Any]]:
    """Kept, one file per run, so a business sees whether new documents made its bot better;
    `previous_run` names the run before it (to compare with)."""
    at = time.time()
    earlier = kept_runs(folder)
    run = {
        "bot": bot,
        "at": at,
        "questions_from": source,
        "previous_run": earlier[0].name if earlier else None,
        "candidates": [r.as_json() for r in results],
    }
    folder.mkdir(parents=True, exist_ok=True)
    stem = time.strftime("%Y%m%d-%H%M%S", time.gmtime(at))
    path, n = folder / f"{stem}.json", 1
    while path.exists():  # two runs in one second: both kept
        n += 1
        path = folder / f"{stem}-{n}.json"
    path.write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
    return path, run
