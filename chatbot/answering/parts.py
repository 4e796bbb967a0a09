"""The questions one message asks: "How far is it from the airport and how long does it take
by car?" asks two, each answered by its own sentence, often of its own document.

Told by their form only: two or more sentences that end in a question mark, or one question
that joins a second with "and" ("dan", "和", "还有") before a question word. A part after the
first leans on it ("... and do I get it back?"): it is read with the first as a follow-up is.
Nouns joined by "and" ("check-in and check-out") are one question here.
"""

from __future__ import annotations

import re

from knowledge.scripts import CJK_CHAR

_QUESTION_SENTENCE = re.compile(r"[^?？]*[?？]")
# A second question joined to the first: ", and how long ...", " dan berapa ...", "和多少 ...".
_JOINED = re.compile(
    r"(?:,\s*|\s+)(?:and|dan|also|plus)\s+(?=(?:how|what|when|where|which|who|whom|is|are|do|"
    r"does|did|can|could|will|would|should|berapa|bila|bilakah|adakah|boleh|apa|apakah|mana|"
    r"siapa)\b)|[，,]?\s*(?:和|还有|另外)(?=多少|几|什么|哪|可以|有没有|是不是|要不要)",
    re.IGNORECASE,
)
_MAX_PARTS = 3  # a longer list of questions is an enquiry for a person, not three answers
_MIN_WORDS = 2  # "and?" is no question of its own


def question_parts(message: str) -> list[str]:
    """The questions `message` asks, in order; one (the message) when it asks one."""
    sentences = [s.strip() for s in _QUESTION_SENTENCE.findall(message) if s.strip(" ?？")]
    parts: list[str] = []
    for sentence in sentences or [message.strip()]:
        pieces = _JOINED.split(sentence)
        for piece in pieces:
            piece = piece.strip(" ,，")
            if not piece:
                continue
            if not piece.endswith(("?", "？")):
                piece += "？" if CJK_CHAR.match(piece[-1]) else "?"
            parts.append(piece)
    asking = [p for p in parts if len(p.split()) >= _MIN_WORDS or CJK_CHAR.search(p)]
    if len(asking) < 2 or len(asking) > _MAX_PARTS:
        return [message.strip()]
    return asking
