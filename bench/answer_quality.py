"""Whether customers get the right fact, and never a wrong one: the answer packs, scored.

Two small businesses, each a folder of documents, a bot profile and questions with the facts a
right answer contains (chatbot/demo, examples/aircon-shop: prices in PDF, Word, CSV and
Markdown tables, policies, hours, contact, follow-ups, questions out of scope, in English,
Malay and Chinese). Each question is asked as a customer would, through the answering chain, and
scored:

- right: an answer (not a fallback) that contains an expected fact, from the expected document;
- wrong shown: an answer without the expected fact, or any answer to a question out of scope;
- facts shown: the expected fact on screen at all;
- out-of-scope fallbacks: questions the documents do not answer that got "I don't know".
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.common import ROOT
from chatbot.evaluation.questions import TestQuestion, read_questions
from chatbot.evaluation.run import Meter
from chatbot.evaluation.run import ask as evaluation_ask
from chatbot.evaluation.scoring import Outcome, plain

PACKS = {
    "demo-shop": ROOT / "chatbot" / "demo",
    "aircon-shop": ROOT / "examples" / "aircon-shop",
}


Question = TestQuestion  # the packs' questions are test questions like any bot's


def questions(bot: str) -> list[Question]:
    return read_questions(PACKS[bot] / "questions.jsonl")


def pack_data(tmp: Path) -> Path:
    """A data directory with every pack's bot, its documents ingested by the command line."""
    import yaml

    data = tmp / "data"
    data.mkdir()
    bots = {bot: yaml.safe_load((folder / "bot.yaml").read_text()) for bot, folder in PACKS.items()}
    (data / "config.yaml").write_text(yaml.safe_dump({"bots": bots}))
    for bot, folder in PACKS.items():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "chatbot",
                "--data-dir",
                str(data),
                "ingest",
                "--bot",
                bot,
                str(folder / "documents"),
            ],
            check=True,
            capture_output=True,
        )
    return data


def ask(answerer: Any, question: Question) -> Outcome:
    return evaluation_ask(answerer, question, Meter())


def run(answerer: Any, bot: str, before: Callable[[Question], None] | None = None) -> list[Outcome]:
    """Every question of the bot's pack; `before` is told each question first (the oracle)."""
    outcomes = []
    for question in questions(bot):
        if before is not None:
            before(question)
        outcomes.append(ask(answerer, question))
    return outcomes


def _median(values: list[float]) -> str:
    if not values:
        return "-"
    median = statistics.median(values)
    return f"{median:.1f}" if median < 10 else f"{median:.0f}"


def score_rows(label: str, outcomes: list[Outcome]) -> Iterator[list[str]]:
    """One row per language and one for all, with the figures the issue's targets are on."""
    languages = sorted({o.question.language for o in outcomes})
    for language in [*languages, "all"]:
        chosen = [o for o in outcomes if language in ("all", o.question.language)]
        answerable = [o for o in chosen if o.question.answerable]
        out_of_scope = [o for o in chosen if not o.question.answerable]
        answered = [o for o in chosen if o.answered]
        yield [
            label if language == languages[0] else "",
            language,
            f"{sum(o.right for o in answerable)}/{len(answerable)}",
            f"{sum(o.fact_shown for o in answerable)}/{len(answerable)}",
            str(sum(o.wrong for o in chosen)),
            f"{sum(not o.answered for o in out_of_scope)}/{len(out_of_scope)}",
            _median([len(o.text) for o in answered]),
            _median([o.timings.get("shown", 0.0) for o in chosen]),
            _median([o.timings.get("total", 0.0) for o in chosen]),
            _median([o.timings.get("retrieve", 0.0) for o in chosen]),
            _median([o.timings["guard"] for o in chosen if "guard" in o.timings]),
            _median([o.timings["extract"] for o in chosen if "extract" in o.timings]),
        ]


HEADERS = [
    "answers by",
    "lang",
    "right",
    "facts shown",
    "wrong shown",
    "out-of-scope fallbacks",
    "median chars",
    "first shown ms",
    "total ms",
    "retrieval ms",
    "guard ms",
    "extraction ms",
]


def wrong_lines(outcomes: list[Outcome]) -> Iterator[str]:
    for o in outcomes:
        if o.wrong:
            asked = " / ".join(o.question.turns)
            yield f"  wrong ({o.kind}): {asked!r} -> {o.text[:140]!r}"


class Oracle:
    """The Ollama stub's model for the benchmark: it answers each question with the sentence of
    its context that holds the expected fact (a model that reads its passages right), or "I
    don't know." when none does; `wrong_figures` adds ten to every figure of it (a model that
    gets them wrong). So the packs measure what the chain and the guard do with a right answer
    and with a wrong one, not how well a stand-in model reads."""

    def __init__(self, *, wrong_figures: bool = False) -> None:
        self.wrong_figures = wrong_figures
        self.expect: tuple[str, ...] = ()

    def before(self, question: Question) -> None:
        self.expect = question.expect

    def __call__(self, body: dict[str, Any]) -> str:
        system = body["messages"][0]["content"]
        if system.startswith(("Translate", "Rewrite")):
            return ""  # it does not translate or rewrite: both questions are searched together
        context = system[system.find("[1]") :] if "[1]" in system else ""
        sentences = [
            s.strip()
            for s in re.split(r"(?<=[.!?])\s+|(?<=[。！？])|\n|\[\d+\] \([^)]*\) ", context)
            if s and len(s.strip()) > 3 and not s.strip().endswith(("?", "？"))
        ]
        wanted = [plain(fact) for fact in self.expect]
        chosen = next((s for s in sentences if any(w in plain(s) for w in wanted)), None)
        if chosen is None:
            return "I don't know."
        if self.wrong_figures:
            return re.sub(r"\d+", lambda m: str(int(m.group(0)) + 10), chosen)
        return chosen
