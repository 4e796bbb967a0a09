"""Customers' spellings made the documents' words: "brp harga servis utk saga?" is searched and
matched as "berapa harga servis untuk saga?", "can pay by card or not ah?" as "can pay by card?".

The lexicon (lexicon/colloquial.tsv) is kept by hand, with where each entry comes from: Malay
chat shorthand, Manglish particles, English chat spellings, Malaysian colloquial Chinese. No
package holds these. A spelling that is also a word elsewhere ("x", "tu", "kat") is changed only
in a message that reads as Malay once the unambiguous spellings are made standard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from knowledge.language import QueryLanguage, query_language

_LEXICON = Path(__file__).with_name("lexicon") / "colloquial.tsv"
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# "can pay by card or not?", "got lift or not ah?", "bole x?": the tag asks yes or no, and
# says nothing of what about.
_OR_NOT = re.compile(
    r"\s*\b(?:or not|or no|atau tidak|atau tak|ke tidak|ke tak|ke x|tidak)\b(?=\s*(?:[?？.!,]|$))",
    re.I,
)
# "got lift?" (Manglish) asks "is there a lift?": "got" opening the message, before a noun;
# "you all got do X?" asks "do you do X?".
_GOT = re.compile(r"^(\W*)got\b(?!\s+do\b)", re.I)
_YOU_ALL_GOT_DO = re.compile(r"\b(?:you|u) all got do\b|\bgot do\b", re.I)


@dataclass(frozen=True, slots=True)
class _Lexicon:
    anywhere: dict[str, str]
    in_malay: dict[str, str]
    chinese: tuple[tuple[str, str], ...]


@cache
def _lexicon() -> _Lexicon:
    anywhere: dict[str, str] = {}
    in_malay: dict[str, str] = {}
    chinese: list[tuple[str, str]] = []
    for line in _LEXICON.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        written, standard, where, _source = line.split("\t")
        standard = standard.strip('"')
        if not written.isascii():
            chinese.append((written, standard))
        elif where == "ms":
            in_malay[written.casefold()] = standard
        else:
            anywhere[written.casefold()] = standard
    return _Lexicon(anywhere, in_malay, tuple(chinese))


def _replace(text: str, table: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        return table.get(word.casefold(), word)

    out = re.sub(r"\s{2,}", " ", _WORD.sub(one, text))
    return re.sub(r"\s+(?=[?？!.,，])", "", out).strip()


def standard_spelling(message: str) -> str:
    """`message` in the documents' spellings; unchanged when it holds none of the lexicon's."""
    lexicon = _lexicon()
    text = message
    for written, standard in lexicon.chinese:
        text = text.replace(written, standard)
    text = _replace(text, lexicon.anywhere)
    text = _OR_NOT.sub("", text)
    text = _YOU_ALL_GOT_DO.sub("do you do", text)
    text = _GOT.sub(lambda m: f"{m.group(1)}is there", text)
    if query_language(_replace(text, lexicon.in_malay)) is QueryLanguage.OTHER:
        text = _OR_NOT.sub("", _replace(text, lexicon.in_malay))
    # Punctuation left alone at the start ("boss, Myvi ..." -> ", Myvi ...").
    return re.sub(r"^[\s,;:.]+", "", text)
