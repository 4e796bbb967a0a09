"""The sentence or row of the sources that answers the question: the answer without a model.

Used in extract mode, and whenever the model's answer is withheld or the model is unreachable.
A customer asking "How much is an iPhone battery?" wants the line "iPhone battery: RM150, done
in 45 minutes.", not a 600-character passage to search through; quoting whole passages left
the fact somewhere in the middle for most questions on the demo shop.

Each retrieved passage is cut into units (an FAQ entry's answer sentences, a table's row, a
paragraph's sentences) and every unit is scored by the question's words found in it and in
what heads it (its section, its FAQ question), the question's own figures and names (the
"14" of "iPhone 14", the "2.5" of "2.5 HP"), and the rank search gave its passage. The best
unit is the extract, with the next sentence when it alone says too little ("Tidak." then the
opening days). The extract is confident only when enough of the question is in it or in what
heads it; otherwise the bot says it does not know.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from chatbot.answering.language import language_group
from knowledge.documents import Hit
from knowledge.keywords import query_terms, without_question_words
from knowledge.language import QueryLanguage, query_language
from knowledge.malay import malay_roots
from knowledge.scripts import CJK_CHAR

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？])|\n+")
# Figures and model names in a question are what its answer must be about: "iPhone 14",
# "2.5 HP", "1.0", "12V". Their digits, as written, decide between rows that share every word.
_FIGURE = re.compile(r"\d+(?:[.,]\d+)?")
_SHORT_UNIT = 40  # characters: "Yes." or "Tidak." says too little alone
_MAX_EXTRACT = 240  # characters of the extract shown, at most
_OPENING = 200  # characters of a passage's opening, when its heading is what answers
# How much of the question must be found in a unit, or in what heads it, to answer with it.
# Chosen on the demo shop and the aircon pack's questions (bench/answer.py): at 0.5, "Do you
# deliver to Singapore?" was answered with the Penang delivery sentence.
MIN_CONFIDENCE = 0.6
# ...or this much, when the unit is also close in meaning (English questions): "How much is a
# charger?" shares only "charger" with "20W USB-C charger: RM45.".
MIN_CONFIDENCE_CLOSE = 0.5
MIN_CLOSENESS = 0.5
_MEANING = 0.5  # weight of the embedding's cosine in ranking units (English questions)


@dataclass(frozen=True, slots=True)
class Extract:
    text: str  # the sentences or row, as they stand in the source
    hit: Hit  # the passage they come from
    confidence: float  # share of the question's terms found, with its figures weighed double
    confident: bool


@dataclass(frozen=True, slots=True)
class _Unit:
    text: str
    hit: Hit
    rank: int  # of its passage in the search
    position: int  # within its passage
    heads: frozenset[str]  # terms of what heads it: section path, FAQ question
    terms: frozenset[str]
    figures: frozenset[str]
    asks: frozenset[str] = frozenset()  # its FAQ entry's question's terms
    closeness: float = 0.0  # to the question, in meaning (English questions)


def _stem(term: str) -> str:
    """Enough of English inflection to match "returned" with "return", "cases" with "case" and
    "making" with "make" (Malay comes as roots too, Chinese as character pairs)."""
    if len(term) <= 3 or not term.isascii() or not term.isalpha():
        return term
    if term.endswith("ies") and len(term) > 5:
        term = term[:-3] + "y"
    elif term.endswith("s") and not term.endswith("ss"):
        term = term[:-1]
    if term.endswith("y") and len(term) > 5:  # "delivery" as "deliver", "Sundays" as "Sunday"
        term = term[:-1]
    for suffix in ("ing", "ed"):
        if term.endswith(suffix) and len(term) - len(suffix) >= 3:
            term = term[: -len(suffix)]
            break
    return term[:-1] if term.endswith("e") and len(term) > 3 else term


# Words that say what kind of fact is asked for, not what about: weighed half, so that "How
# much is a charger?" is answered by the charger's row although no row says "much".
# fmt: off
_GENERIC = frozenset(_stem(word) for word in (
    "much", "many", "price", "cost", "charge", "fee", "rate", "long", "time", "take", "get",
    "need", "want", "have", "offer", "tell", "know", "please", "go", "come", "make", "give",
    "use", "find", "like", "shop", "store", "harga", "kos", "caj", "lama", "masa", "perlu",
    "mahu", "hendak", "pergi", "datang", "buat", "kedai", "价格", "价钱", "费用", "收费", "时间",
    "需要", "你们", "我们",
))
# fmt: on


# Negations are stop words for search, but "What does the warranty not cover?" is answered by
# the sentence that says what it does not.
_NEGATIONS = re.compile(r"\b(?:not|no|never|except|tidak|bukan|tanpa)\b|不|没有|除了", re.I)


def _terms(text: str) -> frozenset[str]:
    # Malay roots for every text, not only those told Malay: a price list's English row holds
    # "(kontrak penyelenggaraan pejabat)" for Malay customers.
    # Figures are weighed on their own (_figures); a phone number is no term at all.
    words = [
        w
        for w in query_terms(without_question_words(_LONG_NUMBER.sub(" ", text)), limit=512)
        if not w.isdigit()
    ]
    roots = malay_roots([w for w in words if w.isalpha()])
    # One term for every negation word: "not" asked is answered by "never" stated.
    negated = {"¬"} if _NEGATIONS.search(text) else set()
    return frozenset({_stem(term) for term in (*words, *roots)} | negated)


class _Weights:
    """A term's weight: rarer among the passages' units, heavier (a question's "battery", in
    two rows, says more than its "replacement", in ten); a term no unit holds weighs most, so a
    question about something the documents never name ("Singapore") is not confidently
    answered by what it shares with them. Generic words weigh half."""

    def __init__(self, units: Sequence[_Unit]) -> None:
        self.count = len(units)
        self.df: dict[str, int] = {}
        for unit in units:
            for term in unit.terms | unit.heads:
                self.df[term] = self.df.get(term, 0) + 1

    def __call__(self, terms: frozenset[str]) -> float:
        total = 0.0
        for term in terms:
            found = self.df.get(term, 0)
            if not found and CJK_CHAR.search(term):
                continue  # a pair across two Chinese words ("天营" of "星期天营业"): noise
            idf = 1.0 + math.log((self.count + 1) / (found + 1))
            total += idf * (0.5 if term in _GENERIC else 1.0)
        return total


# A phone or account number in a question ("My phone is 012-345 6789") is not what it asks
# about: its digits are left out of the question's figures.
_LONG_NUMBER = re.compile(r"\+?\d[\d\s\-]{5,}\d")


def _figures(text: str) -> frozenset[str]:
    text = _LONG_NUMBER.sub(" ", text)
    return frozenset(match.group(0).replace(",", ".") for match in _FIGURE.finditer(text))


def _units(hits: Sequence[Hit]) -> list[_Unit]:
    units: list[_Unit] = []
    for rank, hit in enumerate(hits):
        text = hit.text.strip()
        head = hit.section
        first, _, rest = text.partition("\n")
        if rest and first.rstrip().endswith(("?", "？")):  # an FAQ entry: its question heads it
            head, text = f"{head}\n{first}", rest
        heads = _terms(f"{hit.title}\n{head}")  # the title says what all of it is about
        asks = _terms(first) if head != hit.section else frozenset()
        pieces = [p.strip() for p in _SENTENCE.split(text) if p and p.strip()]
        for position, piece in enumerate(pieces):
            units.append(
                _Unit(piece, hit, rank, position, heads, _terms(piece), _figures(piece), asks)
            )
    return units


def _score(unit: _Unit, asked: frozenset[str], figures: frozenset[str], weight: _Weights) -> float:
    """The share of the question found in the unit or in what heads it (a row under "Battery
    replacement" is about battery replacement); each figure of the question that the unit
    states counts double."""
    if not asked and not figures:
        return 0.0
    found = weight(asked & (unit.terms | unit.heads))
    matched = len(figures & unit.figures)
    return (found + 2 * matched) / (weight(asked) + 2 * len(figures))


def _rank(unit: _Unit, asked: frozenset[str], weight: _Weights) -> float:
    """How much of the question the unit states itself, beyond what heads it: of two rows under
    "Battery replacement", the one that says "iPhone"."""
    return weight(asked & unit.terms) / max(weight(asked), 1.0)


def _asking_part(message: str) -> str:
    """The sentences of a message that ask, when it also tells ("Is the shop open on Sunday?
    My phone is 012-345 6789."): what the customer tells is not what the answer must hold."""
    sentences = [s.strip() for s in _SENTENCE.split(message) if s and s.strip()]
    asking = [s for s in sentences if s.endswith(("?", "？"))]
    return " ".join(asking) if asking and len(asking) < len(sentences) else message


def _joined(first: str, second: str) -> str:
    if not first:
        return second
    # Chinese sentences follow one another without a space.
    return f"{first}{second}" if first.endswith(("。", "！", "？")) else f"{first} {second}"


# The question's closeness to each unit, by meaning (the embedding model's cosine).
Closeness = Callable[[str, list[str]], list[float]]


def extract(
    question: str,
    hits: Sequence[Hit],
    language: str,
    *,
    also: str = "",
    closeness: Closeness | None = None,
) -> Extract | None:
    """The best unit of `hits` for `question` (with `also`, the question a follow-up follows, as
    a weaker second source of terms), or None when there are no hits. `closeness`, for English
    questions (the embedding model reads little else), ranks units by meaning as well: "Can I
    return an opened phone case?" is about the returns policy's sentence, not the case's price
    row, though the row holds "phone case"."""
    units = _units(hits)
    if not units:
        return None
    question = _asking_part(question)
    if closeness is not None and query_language(question) is QueryLanguage.ENGLISH:
        meaning = closeness(question, [unit.text for unit in units])
        units = [replace(u, closeness=m) for u, m in zip(units, meaning, strict=True)]
    asked = _terms(question)
    figures = _figures(question)
    earlier = _terms(also) - asked if also else frozenset()
    group = language_group(language)
    weight = _Weights(units)

    def score(unit: _Unit) -> float:
        base = _score(unit, asked, figures, weight) + 0.25 * _rank(unit, asked, weight)
        base += _MEANING * unit.closeness
        if figures:  # the row with the "14" of "iPhone 14" over a sentence about all iPhones
            base += 0.5 * len(figures & unit.figures) / len(figures)
        if earlier:  # the earlier question's subject, for "and for 2.5 HP?"
            base += 0.5 * weight(earlier & (unit.terms | unit.heads)) / max(weight(earlier), 1.0)
        # Ties go to the higher-ranked passage, the earlier sentence and the customer's language.
        base += 0.05 / (unit.rank + 1) + 0.02 / (unit.position + 1)
        if query_language(unit.text) is group:
            base += 0.03
        return base

    best = max(units, key=score)
    siblings = [u for u in units if u.hit.chunk_id == best.hit.chunk_id]
    # A follow-up is judged by what it asks itself ("and on Saturday?": Saturday), the earlier
    # question only ranking; one that asks nothing of its own by both.
    judged = asked if asked or figures else earlier
    confidence = _score(best, judged, figures, weight)
    # What the rest of its passage says counts for half: "Adakah kedai buka pada hari Ahad?"
    # is answered by "Kami tutup pada hari Ahad", under the entry that says "Kami buka".
    passage = replace(best, terms=frozenset().union(*(u.terms for u in siblings)))
    confidence = max(confidence, (confidence + _score(passage, judged, figures, weight)) / 2)
    specific = frozenset(t for t in (asked or earlier) if t not in _GENERIC)
    # A generic word alone ("kedai" of "Di manakah kedai anda?") says nothing of what is asked.
    names_it = bool(specific & (best.terms | best.heads)) or bool(figures & best.figures)
    if not specific and not figures:
        # Nothing but generic words ("Where is the shop?"): only an FAQ entry asking just that.
        names_it = bool(best.asks) and len(best.asks & asked) >= 0.5 * len(best.asks)
    confident = names_it and (
        confidence >= MIN_CONFIDENCE
        or (confidence >= MIN_CONFIDENCE_CLOSE and best.closeness >= MIN_CLOSENESS)
    )
    text = best.text
    if not weight(asked & best.terms) and not figures & best.figures:
        # Only what heads it matches ("Making a claim" for "How do I make a warranty claim?"):
        # the passage under that heading is the answer, from its start.
        text = ""
        for unit in siblings:
            if text and len(text) + len(unit.text) > _OPENING:
                break
            text = _joined(text, unit.text)
    elif len(text) < _SHORT_UNIT and not best.figures:  # "Tidak." says too little alone
        following = [u for u in siblings if u.position > best.position]
        if following and len(text) + len(following[0].text) < _MAX_EXTRACT:
            text = _joined(text, following[0].text)
    if len(text) > _MAX_EXTRACT:
        cut = text[:_MAX_EXTRACT]
        end = max(cut.rfind(", "), cut.rfind("，"), cut.rfind(" "))
        text = (cut[:end] if end > _MAX_EXTRACT // 2 else cut).rstrip(" ,") + " …"
    return Extract(text, best.hit, confidence, confident)
