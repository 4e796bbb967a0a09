"""Malay words reduced to their roots for the keyword index, so "dibebaskan" finds "bebas".

Malay builds words with prefixes, suffixes and both at once (me-...-kan, di-...-i, ber-, ter-,
pe-...-an, ke-...-an), so a customer's "penghantaran" and a price list's "hantar" share no word
and BM25 cannot see they match. Sastrawi's stemmer (Nazief-Adriani, written for Indonesian,
whose affixes Malay shares) strips an affix only when what is left is in its dictionary of root
words, so it seldom mangles a word; it is still given Malay text only, because some English
words look affixed to it ("berlin" -> "lin", "minister" -> "mister"). Stripping affixes by rule
alone was tried before and lowered hit@1 on squad-ms-dev; this raised it (see bench/README.md).
"""

from __future__ import annotations

from functools import cache, lru_cache

from Sastrawi.Stemmer.Stemmer import Stemmer
from Sastrawi.Stemmer.StemmerFactory import StemmerFactory


class _RootWords:
    """Sastrawi's dictionary interface over a set: its own keeps a list and searches it whole
    for every lookup (about 50 ms a word; this makes it 0.2 ms)."""

    def __init__(self, words: frozenset[str]) -> None:
        self._words = words

    def contains(self, word: str) -> bool:
        return word in self._words


@cache
def root_words() -> frozenset[str]:
    """Sastrawi's dictionary of Malay root words."""
    return frozenset(w for w in StemmerFactory().get_words_from_file() if w.strip())


@cache
def _stemmer() -> Stemmer:
    return Stemmer(_RootWords(root_words()))


@lru_cache(maxsize=200_000)
def malay_root(word: str) -> str:
    """The root of a lower-case Malay word, or the word itself when it has none to strip."""
    if not word.isalpha():
        return word
    return str(_stemmer().stem_word(word)) or word


def malay_roots(tokens: list[str]) -> list[str]:
    return [malay_root(token) for token in tokens]
