"""Everyday customer-service words across English, Malay and Chinese, as one concept each, so
that a question in one language meets a document in another: "星期六几点关门？" and "What time do
you close on Saturday?" both name `saturday` and `close`, as does "Sabtu: 8.30 pagi - 3.00
petang" of a Malay FAQ.

The embedding model reads English well and Malay and Chinese poorly, and keywords cannot cross
languages; the embedded chat model cannot translate. A glossary kept in the repo
(lexicon/glossary.tsv, by hand, common words only) can: its concepts are added to the terms the
extract matches and searched as a second query.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_GLOSSARY = Path(__file__).with_name("lexicon") / "glossary.tsv"
CONCEPT = "§"  # marks a concept among a text's terms: no word of any language starts with it


@cache
def _glossary() -> tuple[re.Pattern[str], dict[str, str], dict[str, str], dict[str, list[str]]]:
    """A pattern for every Latin word or phrase, the concept of each (Latin and Chinese), and
    each concept's words, English first."""
    latin: dict[str, str] = {}
    chinese: dict[str, str] = {}
    words: dict[str, list[str]] = {}
    for line in _GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        english, malay, zh = [*line.split("\t"), "", ""][:3]
        key = CONCEPT + english.split("|")[0]
        for word in [*english.split("|"), *malay.split("|")]:
            if word.strip():
                latin[word.strip().casefold()] = key
                words.setdefault(key, []).append(word.strip())
        for word in zh.split("|"):
            if word.strip():
                chinese[word.strip()] = key
    alternatives = sorted(latin, key=len, reverse=True)  # the longest phrase first
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, alternatives)) + r")(?![\w-])")
    return pattern, latin, chinese, words


def concepts(text: str) -> frozenset[str]:
    """The glossary's concepts named in `text`, in any of its languages."""
    pattern, latin, chinese, _ = _glossary()
    lowered = text.casefold()
    found = {latin[m.group(0)] for m in pattern.finditer(lowered)}
    # Chinese words by the longest first, each span once: 星期六 is Saturday, not also 星期 (week).
    rest = text
    for word in sorted(chinese, key=len, reverse=True):
        if word in rest:
            found.add(chinese[word])
            rest = rest.replace(word, " ")
    return frozenset(found)


def other_words(text: str) -> list[str]:
    """The English and Malay words of the concepts `text` names that it does not say itself:
    what a second search looks for ("星期六几点关门？" -> saturday, sabtu, close, tutup, ...)."""
    _, _, _, words = _glossary()
    lowered = text.casefold()
    out: list[str] = []
    for key in sorted(concepts(text)):
        out += [w for w in words[key] if w.casefold() not in lowered]
    return out
