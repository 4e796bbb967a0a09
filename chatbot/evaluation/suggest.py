"""Test questions suggested from a bot's own documents, so that a business has a few dozen in
minutes, to check and keep: each FAQ entry's question with a fact of its answer, each priced
table or list row as "How much is …?" with its price. Staff correct the wording and the facts;
a suggestion is a start, not a verdict."""

from __future__ import annotations

import re

from chatbot.answering.language import detect_language
from chatbot.evaluation.questions import TestQuestion
from knowledge.base import KnowledgeBase
from knowledge.documents import Chunk

# The fact a right answer must hold: a price, a time, a duration, a number with its unit.
_FACT = re.compile(
    r"RM\s?\d[\d,.]*|\d{1,2}(?:[:.]\d{2})?\s?(?:am|pm)|\d+\s?(?:minutes?|hours?|days?|months?"
    r"|years?|hari|bulan|tahun|jam|minit|分钟|小时|天|个月|年)|\d[\d,.]*\s?%|\d[\d,.]+",
    re.IGNORECASE,
)
_QUESTIONS_PER_DOCUMENT = 15
_ROW_PRICE = {"en": "How much is {}?", "ms": "Berapa harga {}?", "zh": "{}多少钱？"}


def _fact(text: str) -> str | None:
    found = _FACT.search(text)
    return found.group(0).strip().rstrip(",.;") if found else None


def _from_faq(chunk: Chunk, source: str | None) -> TestQuestion | None:
    question, _, answer = chunk.text.partition("\n")
    # From the answer's first sentence, which answers the question; a figure further on is
    # often a detail ("... done in 2 hours" after "We replace cracked screens ...").
    sentences = [x for x in re.split(r"(?<=[.!?。！？])\s*", answer.strip()) if x]
    if not sentences:
        return None
    # "Yes." or "Boleh." alone says little: the sentence after it says what.
    short = len(sentences[0].split()) <= 2 and len(sentences[0]) <= 8  # (Chinese: no spaces)
    first = sentences[1] if short and len(sentences) > 1 else sentences[0]
    fact = _fact(first) or " ".join(first.split()[:4]).rstrip(",.;")
    if not question.strip() or not fact:
        return None
    return TestQuestion((question.strip(),), (fact,), source, True, detect_language(question))


def from_answer(question: str, answer: str, source: str | None) -> TestQuestion | None:
    """A question with the answer staff wrote for it (a pinned answer), as a test question."""
    return _from_faq(Chunk(f"{question.strip()}\n{answer.strip()}", None, "", 0, True), source)


def _from_row(chunk: Chunk, source: str) -> TestQuestion | None:
    """A row "iPhone battery · Price: RM150" or a line "iPhone battery: RM150, done in 45
    minutes": its label, asked for its price."""
    label = re.split(r"\s·\s|:\s", chunk.text, maxsplit=1)[0].strip()
    price = re.search(r"RM\s?\d[\d,.]*|\d[\d,.]*\s?(?:ringgit|元)", chunk.text, re.IGNORECASE)
    if not price or not 2 <= len(label) <= 60 or label == chunk.text.strip():
        return None
    language = detect_language(label)
    template = _ROW_PRICE.get(language, _ROW_PRICE["en"])
    return TestQuestion(
        (template.format(label),), (price.group(0).strip().rstrip(",.;"),), source, True, language
    )


def suggest(knowledge: KnowledgeBase, most: int = 40) -> list[TestQuestion]:
    """Up to `most` questions, taken evenly from the bot's documents, none asked twice."""
    per_document: list[list[TestQuestion]] = []
    for record in knowledge.documents():
        found: list[TestQuestion] = []
        for chunk in knowledge.chunks_of(record.source):
            made = (
                _from_faq(chunk, record.source) if chunk.is_faq else _from_row(chunk, record.source)
            )
            if made is not None:
                found.append(made)
        per_document.append(found[:_QUESTIONS_PER_DOCUMENT])
    chosen: list[TestQuestion] = []
    seen: set[str] = set()
    for round_ in range(_QUESTIONS_PER_DOCUMENT):  # one from each document in turn
        for found in per_document:
            if round_ < len(found) and (q := found[round_]).question.casefold() not in seen:
                seen.add(q.question.casefold())
                chosen.append(q)
    return chosen[:most]
