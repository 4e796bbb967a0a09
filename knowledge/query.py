"""A question as every step of a search reads it, worked out once where the message is read.

A customer's message is searched several times (as typed, with the question it follows up on,
in English, with the glossary's words of other languages) and every search reads the same
things of it: its language (the dense ranking's weight, the boost for passages in the
customer's language, whether the embedding's similarity says anything, Malay roots), its
keyword terms (the index, the relevance check) and its figures. Each was once worked out again
by each step that needed it, from whatever text that step was handed; a follow-up searched
with the question before it was then taken for that question's language. A `Query` carries
them instead. A second search of the same question (`searching`) reads its own text's language,
which says how far the embedding model can be trusted with it, and keeps the customer's, which
says which passages to prefer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.keywords import QUESTION_WORDS, query_terms, tokenize, without_question_words
from knowledge.language import QueryLanguage, query_language
from knowledge.levels import without_levels
from knowledge.malay import malay_roots

# Figures and model names in a question are what its answer must be about: "iPhone 14",
# "2.5 HP", "1.0", "12V". Their digits, as written, decide between rows that share every word.
_FIGURE = re.compile(r"\d+(?:[.,]\d+)?")
# A phone or account number in a question ("My phone is 012-345 6789") is not what it asks
# about: its digits are left out of the question's figures.
LONG_NUMBER = re.compile(r"\+?\d[\d\s\-]{5,}\d")
# Where a sentence ends, in Latin and Chinese script (the extract cuts passages by it too).
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？])|\n+")


def figures_in(text: str) -> frozenset[str]:
    """The figures `text` names ("14" of "iPhone 14", "2.5" of "2.5 HP"), school levels and long
    numbers (a phone number) apart; a decimal comma read as a point."""
    text = without_levels(LONG_NUMBER.sub(" ", text))
    return frozenset(match.group(0).replace(",", ".") for match in _FIGURE.finditer(text))


def asking_part(message: str) -> str:
    """The sentences of a message that ask, when it also tells ("Is the shop open on Sunday?
    My phone is 012-345 6789."): what the customer tells is not what the answer must hold."""
    sentences = [s.strip() for s in SENTENCE.split(message) if s and s.strip()]
    asking = [s for s in sentences if s.endswith(("?", "？"))]
    return " ".join(asking) if asking and len(asking) < len(sentences) else message


def _stem(token: str) -> str:
    # Enough to match "screens" with "screen" and "repairs" with "repair"; not a real stemmer.
    return token[:-1] if len(token) > 3 and token.endswith("s") else token


@dataclass(frozen=True, slots=True)
class Query:
    """What is searched, and what every step reads of it."""

    text: str
    language: QueryLanguage  # the text's: the dense ranking's weight, Malay roots, relevance
    customer: QueryLanguage  # the customer's: passages in it are preferred
    terms: tuple[str, ...]  # what the keyword index is searched for, in order
    content: frozenset[str]  # the words it is about, stemmed, for the relevance check
    figures: frozenset[str]  # the figures it asks about, not those it only tells

    @classmethod
    def of(
        cls,
        text: str,
        language: QueryLanguage | None = None,
        customer: QueryLanguage | None = None,
    ) -> Query:
        """`text` read; its language worked out unless the caller knows it, and the customer's
        the same unless it is another's message searched for them."""
        text = text.strip()
        language = language or query_language(text)
        # Question words (apakah, berapa...) are not what a question is about: a passage never
        # holds them, so counting them made a Malay question need more of its other words.
        content = [t for t in tokenize(without_question_words(text)) if t not in QUESTION_WORDS]
        if language is QueryLanguage.OTHER:
            content = malay_roots(content)
        return cls(
            text,
            language,
            customer or language,
            tuple(query_terms(text, language=language)),
            frozenset(_stem(t) for t in content),
            figures_in(asking_part(text)),
        )

    def searching(self, text: str, language: QueryLanguage | None = None) -> Query:
        """The same customer's question searched as `text` (with the question it follows up on,
        in English, with the glossary's words in other languages)."""
        return Query.of(text, language, self.customer)

    def coverage(self, text: str) -> float:
        """The share of the words this query is about that `text` holds (0 when it is about no
        word at all)."""
        if not self.content:
            return 0.0
        passage = tokenize(text)
        if self.language is QueryLanguage.OTHER:
            # Malay words by their roots, as the keyword index has them: "dihantar" is covered
            # by "penghantaran". With both, the squad-ms-dev answerable questions with a passage
            # passing this went from 0.898 to 0.971; asked of the demo shop (off-topic), 0.005.
            passage = malay_roots(passage)
        present = {_stem(t) for t in passage}
        return len(self.content & present) / len(self.content)
