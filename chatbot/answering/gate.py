"""Whether the extract answers the question: a logistic model learned from labelled questions
across businesses, not thresholds chosen by hand on two packs.

The extract (chatbot.answering.extract) describes its best sentence or row by a few signals:
how much of the question it and what heads it state, whether it names the question's figures,
how close it is in meaning (English), how the search ranked its passage, whether the question
names something no retrieved passage holds ("Singapore" of "Do you deliver to Singapore?"), and
the question's language. The gate weighs them into the chance that a customer would judge the
extract right, and shows it when that chance is above the model's threshold.

The weights and the threshold are fitted by `python -m bench.sme --fit` on the sme-dev
businesses (three small businesses' documents and questions as customers type them) and the two
regression packs, and kept in gate.json beside this file: the threshold shows the most right
answers less twice the wrong ones on the businesses it was fitted on (a threshold for 1% of
wrong answers on those was tried: on a business left out it still let 4% through, and declined
the demo shop's first question). `--lobo` fits on two businesses and scores the third, so the
figure quoted predicts a business nobody tuned for.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

FEATURES = (
    "score",  # the hand ranking's score (share found, figures, meaning, follow-up, fit), / 3
    "unit",  # share of the question's weighted terms the unit or what heads it states
    "passage",  # the same share over the unit's whole passage
    "own",  # share the unit states itself (not its heading)
    "closeness",  # cosine to the question (English questions; 0 otherwise)
    "figures",  # share of the question's figures the unit states (0 when it has none)
    "has_figures",  # the question has figures ("iPhone 14", "185/55R15")
    "names",  # the unit or its heading names a specific word or figure of the question
    "unknown",  # share of the question's weighted terms no retrieved passage holds at all
    "asks",  # share of its FAQ question's terms the customer's question holds (0: no FAQ)
    "earlier",  # share of the earlier question's terms it holds (a follow-up's subject)
    "rank",  # 1 / (1 + its passage's rank in the search)
    "similarity",  # its passage's vector similarity to the question (0 when unknown)
    "coverage",  # share of the question's words its passage holds (knowledge.relevance)
    "lead",  # its hand score less the best other unit's (-1..1)
    "wants",  # the question asks for a kind of fact: a time or day, an amount, a number, a name
    "fits",  # share of those kinds the unit states
    "row",  # a table's row
    "first",  # 1 / (1 + its place in its passage)
    "same_language",  # in the customer's language
    "zh",
    "ms",
)
PATH = Path(__file__).with_name("gate.json")


@dataclass(frozen=True, slots=True)
class Gate:
    weights: tuple[float, ...]
    bias: float
    threshold: float
    # Fitted with every passage found offered to it (bench.sme), so it judges them all.
    judges_all_found = True

    def chance(self, features: dict[str, float]) -> float:
        z = self.bias + sum(
            w * features.get(f, 0.0) for w, f in zip(self.weights, FEATURES, strict=True)
        )
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def passes(self, features: dict[str, float]) -> bool:
        return self.chance(features) >= self.threshold

    def as_json(self) -> dict[str, object]:
        return {
            "features": list(FEATURES),
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "threshold": round(self.threshold, 6),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Gate:
        names = data["features"]
        weights = data["weights"]
        assert isinstance(names, list) and isinstance(weights, list)
        by_name = dict(zip(names, weights, strict=True))
        return cls(
            tuple(float(by_name.get(f, 0.0)) for f in FEATURES),
            float(data["bias"]),  # type: ignore[arg-type]
            float(data["threshold"]),  # type: ignore[arg-type]
        )


# Shows every extract: for collecting what the gate learns from.
OPEN = Gate(tuple(0.0 for _ in FEATURES), 0.0, 0.0)


class Judge(Protocol):
    # Whether it judges every passage found, or only those that pass the relevance check.
    judges_all_found: bool

    def passes(self, features: dict[str, float]) -> bool: ...


@dataclass(frozen=True, slots=True)
class Rules:
    """The hand rule (the default, `answering.gate: rules`): at least 0.6 of the question found
    in the unit, what heads it, or for half in the rest of its passage (0.5 when also close in
    meaning), with a word of the question that is not generic, or one of its figures, among
    them. Chosen on the two regression packs; chosen instead on two sme-dev businesses and
    scored on the third, the pairs picked do no better (docs/ANSWERS.md). The learned gate is
    measured beside it."""

    share: float = 0.6
    share_close: float = 0.5
    closeness: float = 0.5
    # Chosen on what passed the relevance check: given every passage found, it answered
    # questions out of scope.
    judges_all_found = False

    def passes(self, features: dict[str, float]) -> bool:
        unit, passage = features.get("unit", 0.0), features.get("passage", 0.0)
        found = max(unit, (unit + passage) / 2)
        close = features.get("closeness", 0.0) >= self.closeness
        return features.get("names", 0.0) > 0 and (
            found >= self.share or (found >= self.share_close and close)
        )


RULES = Rules()


@cache
def shipped() -> Gate:
    return Gate.from_json(json.loads(PATH.read_text(encoding="utf-8")))


def fit(
    rows: list[dict[str, float]], labels: list[bool], l2: float = 1.0, steps: int = 3000
) -> tuple[tuple[float, ...], float]:
    """Logistic regression by gradient descent with an L2 penalty (no library needed for 15
    features and a few hundred questions); features are used as they are, all within 0..1."""
    n = len(rows)
    xs = [[r.get(f, 0.0) for f in FEATURES] for r in rows]
    ys = [1.0 if y else 0.0 for y in labels]
    w = [0.0] * len(FEATURES)
    b = 0.0
    rate = 0.5
    for _ in range(steps):
        grad_w = [0.0] * len(w)
        grad_b = 0.0
        for x, y in zip(xs, ys, strict=True):
            z = b + sum(wi * xi for wi, xi in zip(w, x, strict=True))
            p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
            error = p - y
            grad_b += error
            for i, xi in enumerate(x):
                grad_w[i] += error * xi
        w = [wi - rate * (g / n + l2 * wi / n) for wi, g in zip(w, grad_w, strict=True)]
        b -= rate * grad_b / n
    return tuple(w), b


def threshold_for(chances: list[float], right: list[bool], wrong_cost: float = 2.0) -> float:
    """The threshold that shows the most right answers less `wrong_cost` for each wrong one:
    a wrong answer shown costs a customer more than a right one gains (a wrong price is acted
    on; "I don't know" comes with the business's contact)."""
    best, best_value = 1.0, 0.0
    for candidate in sorted(set(chances)):
        shown = [r for c, r in zip(chances, right, strict=True) if c >= candidate]
        value = sum(shown) - wrong_cost * (len(shown) - sum(shown))
        if value > best_value:
            best, best_value = candidate, value
    return best
