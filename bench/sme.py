"""Answers on businesses nobody tuned for: the sme-dev pack, per business, language and kind.

`../shared/eval/sme-dev/` holds three small businesses (a car workshop, a heritage homestay, a
tuition centre) with their documents as they make them and 228 questions as customers type
them. Each business becomes a bot of its own; each question is asked through the answering chain
as a customer would (earlier turns first), and scored as a customer would judge it:

- right: an answer (not a fallback) that holds an expected fact (every group of `expect_all`
  for a multi-part question), from the expected document, and no figure of `must_not`;
- wrong shown: any other answer shown: a wrong row, a header line, an answer to a question
  the documents do not answer, an internal figure;
- declined: "I don't know" (with the contact): right for a question out of scope.

The figure to quote is **leave-one-business-out**: whatever the answering chain learned or chose
was fitted on the other two businesses (`--fit`), so each business's score predicts one nobody
has seen. Without `--fit` the shipped settings are scored on all three.

    python -m bench.sme                   # the shipped chain on each business
    python -m bench.sme --lobo            # fit on two, score the third, for each of the three
    python -m bench.sme --json out.json   # every answer, for reading the misses
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import SHARED, quiet_libraries, table

PACK = SHARED / "eval" / "sme-dev"
BUSINESSES = ("workshop", "homestay", "tuition")

# What a bot of each business says about itself: its name and a contact on fallback (the pack's
# businesses publish these in their documents).
PROFILES: dict[str, dict[str, Any]] = {
    "workshop": {
        "business": "Bengkel Auto Jaya Bukit Mertajam",
        "contact": "WhatsApp 012-555 7730",
    },
    "homestay": {"business": "Rumah Tembaga heritage homestay", "contact": "WhatsApp 016-555 3388"},
    "tuition": {"business": "Pusat Tuisyen Cemerlang Ipoh", "contact": "WhatsApp 017-555 2093"},
}


@dataclass(frozen=True, slots=True)
class PackQuestion:
    business: str
    turns: tuple[str, ...]
    expect: tuple[str, ...]
    expect_all: tuple[tuple[str, ...], ...]
    must_not: tuple[str, ...]
    source: str | None
    answerable: bool
    language: str
    kind: str

    @property
    def question(self) -> str:
        return self.turns[-1]


def read_pack(business: str, pack: Path = PACK) -> list[PackQuestion]:
    out = []
    path = pack / business / "questions.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        turns = row.get("turns") or [row["question"]]
        out.append(
            PackQuestion(
                business,
                tuple(turns),
                tuple(row.get("expect", [])),
                tuple(tuple(g) for g in row.get("expect_all", [])),
                tuple(row.get("must_not", [])),
                row.get("source") or None,
                bool(row.get("answerable", True)),
                row.get("language", "en"),
                row.get("kind", ""),
            )
        )
    return out


def _same_document(expected: str, given: str) -> bool:
    """The same document in another format counts as the expected one: the workshop's Hari Raya
    notice is both a photo (.png) and a scanned PDF of that photo, with the same text."""
    return Path(expected).stem == Path(given).stem


def plain(text: str) -> str:
    return "".join(text.split()).casefold()


@dataclass(slots=True)
class Scored:
    question: PackQuestion
    text: str
    answered: bool
    kind: str  # model, extract, pinned, smalltalk, fallback
    fallback: str | None
    sources: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    features: dict[str, float] = field(default_factory=dict)  # the extract's, for the gate

    @property
    def leaks(self) -> bool:
        shown = plain(self.text)
        return any(plain(figure) in shown for figure in self.question.must_not)

    @property
    def fact_shown(self) -> bool:
        q, shown = self.question, plain(self.text)
        if q.expect_all:
            return all(any(plain(f) in shown for f in group) for group in q.expect_all)
        return any(plain(f) in shown for f in q.expect)

    @property
    def right(self) -> bool:
        q = self.question
        if not q.answerable:
            return not self.answered and not self.leaks
        return (
            self.answered
            and self.fact_shown
            and not self.leaks
            and (q.source is None or any(_same_document(q.source, s) for s in self.sources))
        )

    @property
    def wrong(self) -> bool:
        """Shown as an answer but not right, or a figure that must never be shown."""
        return self.leaks or (self.answered and not self.right)

    def as_json(self) -> dict[str, Any]:
        q = self.question
        return {
            "business": q.business,
            "kind": q.kind,
            "language": q.language,
            "turns": list(q.turns),
            "expect": list(q.expect),
            "source": q.source,
            "answerable": q.answerable,
            "shown": self.text,
            "answered": self.answered,
            "answer_kind": self.kind,
            "fallback": self.fallback,
            "sources": self.sources,
            "verdict": "right" if self.right else "wrong" if self.wrong else "declined",
            "ms": round(self.timings.get("total", 0.0)),
        }


def pack_data(tmp: Path, businesses: Iterable[str] = BUSINESSES) -> Path:
    """A data directory with a bot per business, its documents ingested by the command line."""
    import yaml

    data = tmp / "data"
    data.mkdir(parents=True, exist_ok=True)
    chosen = list(businesses)
    bots = {b: {"title": b, **PROFILES[b]} for b in chosen}
    (data / "config.yaml").write_text(yaml.safe_dump({"bots": bots}, allow_unicode=True))
    for business in chosen:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "chatbot",
                "--data-dir",
                str(data),
                "ingest",
                "--bot",
                business,
                str(PACK / business / "docs"),
            ],
            capture_output=True,
            text=True,
        )
        # A file turned away (a scan where Tesseract is missing) is said, not fatal: its
        # questions then score as misses.
        for line in done.stdout.splitlines() + done.stderr.splitlines():
            if line.startswith(("rejected:", "error:")):
                print(f"{business}: {line}", file=sys.stderr)
    return data


def ask_in_process(answerer: Any, question: PackQuestion) -> Scored:
    from chatbot.answering.chain import Turn

    history: list[Turn] = []
    answer = None
    for turn in question.turns:
        answer = answerer.answer(turn, history)
        history.append(Turn(turn, answer.text))
    assert answer is not None
    return Scored(
        question,
        answer.text,
        answer.answered,
        answer.kind,
        answer.fallback,
        [s.source for s in answer.sources],
        dict(answer.timings_ms),
        dict(answer.gate_features),
    )


def _answerer(services: Any, bot: str, gate: Any) -> Any:
    """The bot's answerer, with `gate` instead of the shipped one when given."""
    from chatbot.answering.chain import Answerer

    services.warm_up(bot)
    answerer = services.answerer(bot)
    if gate is None:
        return answerer
    return Answerer(
        knowledge=answerer.knowledge,
        model=answerer.model,
        prompts=answerer.prompts,
        profile=answerer.profile,
        settings=answerer.settings,
        gate=gate,
    )


def run_in_process(
    data: Path,
    businesses: Iterable[str],
    settings: dict[str, dict[str, Any]] | None = None,
    gate: Any = None,
) -> list[Scored]:
    """Every question of each business, asked of its bot; with `gate`, the extract's gate is
    that one (chatbot.answering.gate.OPEN shows every extract, to learn from)."""
    from chatbot.services import Services
    from chatbot.settings import load_settings

    loaded = load_settings(data_dir=data)
    for section, values in (settings or {}).items():
        for key, value in values.items():
            setattr(getattr(loaded, section), key, value)
    services = Services(loaded)
    out: list[Scored] = []
    try:
        for business in businesses:
            answerer = _answerer(services, business, gate)
            out += [ask_in_process(answerer, q) for q in read_pack(business)]
    finally:
        services.close()
    return out


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else 0.0


def rows_by(label: str, scored: list[Scored], key: str) -> list[list[str]]:
    groups: dict[str, list[Scored]] = {}
    for s in scored:
        groups.setdefault(getattr(s.question, key), []).append(s)
    rows = []
    for name, items in [*sorted(groups.items()), ("all", scored)]:
        answerable = [s for s in items if s.question.answerable]
        out_of_scope = [s for s in items if not s.question.answerable]
        shown = [len(s.text) for s in items if s.answered]
        times = [s.timings.get("total", 0.0) for s in items]
        right = sum(s.right for s in answerable)
        rows.append(
            [
                label,
                name,
                f"{right}/{len(answerable)}",
                f"{100 * right / len(answerable):.0f}%" if answerable else "-",
                str(sum(s.wrong for s in items)),
                f"{sum(s.right for s in out_of_scope)}/{len(out_of_scope)}",
                f"{statistics.median(shown):.0f}" if shown else "-",
                f"{_p95(times) / 1000:.2f}",
            ]
        )
        label = ""
    return rows


HEADERS = [
    "business",
    "group",
    "right",
    "%",
    "wrong shown",
    "declined (oos)",
    "median chars",
    "p95 s",
]


def report(scored: list[Scored], title: str) -> str:
    lines = [title]
    lines.append(
        table(
            HEADERS,
            [
                r
                for b in BUSINESSES
                for r in rows_by(b, [s for s in scored if s.question.business == b], "language")
                if [s for s in scored if s.question.business == b]
            ],
        )
    )
    lines.append("")
    lines.append("By kind, all businesses")
    lines.append(table(HEADERS, rows_by("all", scored, "kind")))
    return "\n".join(lines)


def _gated(s: Scored, gate: Any) -> Scored:
    """The outcome of `s` (asked with every extract shown) had `gate` judged its extract."""
    from dataclasses import replace

    if s.kind != "extract" or not s.features or gate.passes(s.features):
        return s
    return replace(s, text="(declined)", answered=False, kind="fallback", sources=[])


def fit_gate(scored: list[Scored]) -> Any:
    """The gate fitted on `scored` (asked with every extract shown): the weights, and the
    threshold that shows the most right answers less twice the wrong ones."""
    from chatbot.answering.gate import Gate, fit, threshold_for

    learn = [s for s in scored if s.kind == "extract" and s.features]
    weights, bias = fit([s.features for s in learn], [s.right for s in learn])
    unjudged = Gate(weights, bias, 0.0)
    chances = [unjudged.chance(s.features) for s in learn]
    return Gate(weights, bias, threshold_for(chances, [s.right for s in learn]))


def regression_packs(tmp: Path, gate: Any) -> list[Scored]:
    """The demo shop's and the aircon shop's packs (bench/answer_quality.py) asked with `gate`:
    more businesses to fit the gate on (never scored as held out: they are regression checks)."""
    from bench import answer_quality
    from chatbot.services import Services
    from chatbot.settings import load_settings

    tmp.mkdir(parents=True, exist_ok=True)
    data = answer_quality.pack_data(tmp)
    services = Services(load_settings(data_dir=data))
    out: list[Scored] = []
    try:
        for bot in answer_quality.PACKS:
            answerer = _answerer(services, bot, gate)
            for q in answer_quality.questions(bot):
                pack = PackQuestion(
                    bot, q.turns, q.expect, (), (), q.source, q.answerable, q.language, ""
                )
                out.append(ask_in_process(answerer, pack))
    finally:
        services.close()
    return out


def leave_one_out(scored: list[Scored], extra: Sequence[Scored] = ()) -> list[Scored]:
    """Each business's outcomes under the gate fitted on the other two (and `extra`, other
    businesses to learn from)."""
    out: list[Scored] = []
    for held in BUSINESSES:
        train = [s for s in scored if s.question.business != held] + list(extra)
        test = [s for s in scored if s.question.business == held]
        if not train or not test:
            continue
        gate = fit_gate(train)
        print(f"{held}: gate fitted on the other two, threshold {gate.threshold:.3f}")
        out += [_gated(s, gate) for s in test]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sme", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="reuse an ingested data directory")
    parser.add_argument("--only", action="append", choices=BUSINESSES, help="these businesses")
    parser.add_argument("--json", type=Path, help="write every answer here")
    parser.add_argument(
        "--lobo", action="store_true", help="fit the gate on two businesses, score the third"
    )
    parser.add_argument(
        "--fit", action="store_true", help="fit the gate on all three and write gate.json"
    )
    args = parser.parse_args(argv)
    quiet_libraries()
    businesses = args.only or list(BUSINESSES)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or pack_data(Path(tmp), businesses)
        if args.data and not (data / "config.yaml").exists():
            pack_data(data.parent, businesses)
        if args.lobo or args.fit:
            from chatbot.answering.gate import OPEN, PATH

            every = run_in_process(data, businesses, gate=OPEN)
            extra = regression_packs(Path(tmp) / "packs", OPEN)
            if args.lobo:
                scored = leave_one_out(every, extra)
                title = "sme-dev, leave one business out: the gate fitted on the other two"
            if args.fit:
                gate = fit_gate(every + extra)
                PATH.write_text(json.dumps(gate.as_json(), indent=1) + "\n", encoding="utf-8")
                print(
                    f"gate fitted on {len(every)} questions, threshold {gate.threshold:.3f}: {PATH}"
                )
                if not args.lobo:
                    scored = [_gated(s, gate) for s in every]
                    title = "sme-dev, the gate fitted on all three (in-sample: not a prediction)"
        else:
            scored = run_in_process(data, businesses)
            title = "sme-dev, embedded default, in process"
    print(report(scored, title))
    if args.json:
        args.json.write_text(
            json.dumps([s.as_json() for s in scored], ensure_ascii=False, indent=1),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
