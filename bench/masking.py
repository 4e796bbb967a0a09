"""Masking of personal data, measured on the labelled sets tests/data/masking-labelled.txt
(the detectors were tuned on it) and masking-heldout.txt (written afterwards, not tuned on):
recall and precision per kind, beside the naive patterns a quick implementation would use
(dashed MyKad, 16 digits, digits-and-dashes phone, a simple e-mail pattern) as the baseline.

A found span counts when it overlaps a labelled span of the same kind; a labelled span counts
as found when some found span of its kind overlaps it. The issue's bar (#6): recall >= 0.98 and
precision >= 0.95 for identity-card, phone, e-mail and card numbers.

    python -m bench.masking
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT, table
from chatbot.privacy.masking import Found, Kind, find_personal_data

LABELLED = ROOT / "tests" / "data" / "masking-labelled.txt"
KINDS: tuple[Kind, ...] = ("ic", "phone", "email", "card", "passport")
_LABEL = re.compile(r"\[\[(\w+)\|([^\]]+)\]\]")


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    spans: list[tuple[Kind, int, int]]


def read_labelled(path: Path = LABELLED) -> list[Labelled]:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        text, spans, last = "", [], 0
        for m in _LABEL.finditer(raw):
            text += raw[last : m.start()]
            kind = m.group(1)
            if kind not in KINDS:
                raise ValueError(f"unknown kind {kind!r} in: {raw}")
            spans.append((kind, len(text), len(text) + len(m.group(2))))
            text += m.group(2)
            last = m.end()
        lines.append(Labelled(text + raw[last:], spans))  # type: ignore[arg-type]
    return lines


@dataclass
class Score:
    labelled: int = 0
    found: int = 0
    labelled_hit: int = 0
    found_right: int = 0

    @property
    def recall(self) -> float:
        return self.labelled_hit / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.found_right / self.found if self.found else 1.0


def score(detect: Callable[[str], Iterable[Found]], lines: list[Labelled]) -> dict[Kind, Score]:
    scores = {kind: Score() for kind in KINDS}
    for line in lines:
        found = list(detect(line.text))
        for kind, start, end in line.spans:
            scores[kind].labelled += 1
            if any(f.kind == kind and f.start < end and start < f.end for f in found):
                scores[kind].labelled_hit += 1
        for f in found:
            scores[f.kind].found += 1
            if any(k == f.kind and f.start < e and s < f.end for k, s, e in line.spans):
                scores[f.kind].found_right += 1
    return scores


def misses(lines: list[Labelled]) -> list[str]:
    """Each labelled span not found and each found span not labelled, for tuning."""
    out = []
    for line in lines:
        found = find_personal_data(line.text)
        for kind, s, e in line.spans:
            if not any(f.kind == kind and f.start < e and s < f.end for f in found):
                out.append(f"missed {kind} {line.text[s:e]!r} in: {line.text}")
        for f in found:
            if not any(k == f.kind and f.start < e and s < f.end for k, s, e in line.spans):
                out.append(f"wrongly {f.kind} {f.text!r} in: {line.text}")
    return out


_NAIVE: list[tuple[Kind, re.Pattern[str]]] = [
    ("email", re.compile(r"\b[\w.]+@[\w.]+\.\w+\b")),
    ("ic", re.compile(r"\b\d{6}-\d{2}-\d{4}\b")),
    ("card", re.compile(r"\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\b")),
    ("phone", re.compile(r"\+?\d[\d -]{7,}\d")),
    ("passport", re.compile(r"\b[A-Z]\d{8}\b")),
]


def naive(text: str) -> list[Found]:
    taken: list[Found] = []
    for kind, pattern in _NAIVE:
        for m in pattern.finditer(text):
            if not any(m.start() < t.end and t.start < m.end() for t in taken):
                taken.append(Found(kind, m.start(), m.end(), m.group()))
    return taken


def main() -> None:
    for path in (LABELLED, LABELLED.with_name("masking-heldout.txt")):
        print(f"## {path.name}")
        report(read_labelled(path))
        print()


def report(lines: list[Labelled]) -> None:
    ours, baseline = score(find_personal_data, lines), score(naive, lines)
    rows = []
    for kind in KINDS:
        o, b = ours[kind], baseline[kind]
        rows.append(
            [
                kind,
                str(o.labelled),
                f"{o.recall:.3f}",
                f"{o.precision:.3f}",
                f"{b.recall:.3f}",
                f"{b.precision:.3f}",
            ]
        )
    print(f"{len(lines)} lines, {sum(len(x.spans) for x in lines)} labelled spans\n")
    headers = ["kind", "labelled", "recall", "precision", "naive recall", "naive precision"]
    print(table(headers, rows))
    for line in misses(lines):
        print(line)


if __name__ == "__main__":
    main()
