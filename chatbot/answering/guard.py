"""Keep invented facts from reaching a customer.

Small models make up prices, dates, phone numbers and links. Every such fact in an answer must
appear in the passages the answer was grounded on; an answer with one that does not is withheld
and the bot quotes its best passage instead. Answers are checked sentence by sentence as they
stream, so an unsupported figure is never shown, not even for a moment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from chatbot.answering.language import detect_language, language_group
from knowledge.keywords import tokenize
from knowledge.language import query_language, script_counts
from knowledge.scripts import CJK_CHAR

_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\"']+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Digits with the separators people write numbers with: 012-345 6789, +60 4-261 2345, 1,200.50
_NUMBER = re.compile(r"\+?\d(?:[\d ,.\-/()]*\d)?")
# A sentence ends at . ! ? (followed by a space or the end) or their CJK forms, or a newline.
_SENTENCE_END = re.compile(r"(?:[.!?](?=\s)|[。！？\n])")


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str = ""  # why not, for the log and the staff review, never for the customer


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _numbers(text: str) -> set[str]:
    """Every number as plain digits; a phone number or a date also as its separate parts."""
    found: set[str] = set()
    for match in _NUMBER.finditer(text):
        whole = match.group(0)
        found.add(_digits(whole))
        found.update(_digits(part) for part in re.split(r"[ ,.\-/()+]", whole) if part)
    found.discard("")
    return found


_SEGMENT = re.compile(r"(?<=[.!?])\s+|[\n。！？；;]+")
_NAME = re.compile(r"\b[A-Z][a-z]{2,}\b")
# Below this share of its own words found in the sources, an answer is not grounded in them.
MIN_GROUNDING = 0.5


def _content_words(text: str) -> set[str]:
    # Word tokens (Chinese: character pairs) minus function words; a trailing s is dropped so
    # that "repairs" matches "repair". Short tokens ("re" of "we're") say nothing.
    words = set()
    for token in tokenize(text):
        if (len(token) < 3 and not CJK_CHAR.search(token)) or any(c.isdigit() for c in token):
            continue  # figures (RM120, 10am) are checked on their own, digit by digit
        words.add(token[:-1] if len(token) > 3 and token.endswith("s") else token)
    return words


class SourceFacts:
    """What the sources state, normalised for comparison."""

    def __init__(self, passages: Iterable[str], question: str = "") -> None:
        passages = list(passages)
        text = "\n".join(passages)
        # Word grounding compares words, so it says nothing about an answer in Malay from an
        # English passage; figures, names and links are checked whatever the languages.
        self.languages = {query_language(passage) for passage in passages}
        self.lowered = text.lower()
        self.numbers = _numbers(_URL.sub(" ", text))
        self.all_digits = _digits(text)
        self.question_lowered = question.lower()
        self.question_words = _content_words(question)
        self.source_words = _content_words(text)
        # Each source sentence's figures with its words: a figure must be stated about the same
        # thing, not just somewhere ("battery RM50" when RM50 is the price of a data transfer).
        self.segments = [
            (_numbers(segment), _content_words(segment))
            for segment in _SEGMENT.split(_URL.sub(" ", text))
            if segment.strip()
        ]

    def _figure_in_context(self, digits: str, sentence_words: set[str]) -> bool:
        about = sentence_words | self.question_words
        return any(digits in numbers and words & about for numbers, words in self.segments)

    def unsupported_name(self, sentence: str) -> str | None:
        """A capitalised name inside `sentence` that neither the sources nor the question use:
        the place, brand or person a small model made up ("we deliver to Singapore")."""
        for match in _NAME.finditer(sentence):
            if match.start() == 0 or not sentence[: match.start()].strip():
                continue  # the sentence's first word is capitalised anyway
            word = match.group(0).lower()
            if word not in self.lowered and word not in self.question_lowered:
                return f"name {match.group(0)}"
        return None

    def grounding(self, answer: str) -> float:
        """Share of the answer's own words (those not taken from the question) found in the
        sources; 0 when the answer adds nothing to the question (it only repeats it)."""
        own = _content_words(answer) - self.question_words
        if len(own) < 3 and _NUMBER.search(answer):
            # "It costs RM150.": a short answer carrying a figure, which the figure check has
            # verified in context; a word or two around it say too little to judge by.
            return 1.0
        if not own:
            return 0.0  # it only repeats the question
        return len(own & self.source_words) / len(own)

    def unsupported(self, sentence: str) -> str | None:
        """The first fact of `sentence` the sources do not state, or None."""
        for url in _URL.findall(sentence):
            if url.rstrip(".,;:!?").lower() not in self.lowered:
                return f"link {url}"
        for email in _EMAIL.findall(sentence):
            if email.lower() not in self.lowered:
                return f"e-mail {email}"
        rest = _EMAIL.sub(" ", _URL.sub(" ", sentence))
        words = _content_words(rest)
        for match in _NUMBER.finditer(rest):
            digits = _digits(match.group(0))
            start = match.start()
            while start > 0 and rest[start - 1].isalpha():  # "RM120", not just "120"
                start -= 1
            shown = rest[start : match.end()].strip()
            if len(digits) >= 7:  # a phone or account number: the same digits must be there
                if digits not in self.all_digits:
                    return f"number {shown}"
            elif digits not in self.numbers:
                return f"figure {shown}"
            elif not self._figure_in_context(digits, words):
                return f"figure {shown} (stated about something else)"
        return None


class StreamGuard:
    """Releases a streamed answer sentence by sentence, once each sentence is checked."""

    def __init__(self, facts: SourceFacts, language: str) -> None:
        self.facts = facts
        self.language = language
        self._pending = ""
        self._released: list[str] = []
        self.verdict = Verdict(True)
        self._language_checked = False
        self._sentences: set[str] = set()
        self._question_key = " ".join(facts.question_lowered.split()).strip(" ?？")
        self.complete = False  # the model started repeating itself: the answer is over

    @property
    def text(self) -> str:
        return "".join(self._released)

    def feed(self, delta: str) -> str:
        """New text safe to show; empty once the answer has failed a check."""
        if not self.verdict.ok or self.complete:
            return ""
        self._pending += delta
        out = []
        while (end := _SENTENCE_END.search(self._pending)) is not None:
            sentence, self._pending = (
                self._pending[: end.end()],
                self._pending[end.end() :],
            )
            # Small models loop ("The price is RM350. The price is RM350. ..."): a sentence said
            # before ends the answer.
            key = " ".join(sentence.split()).lower()
            if key and key in self._sentences:
                self.complete = True
                self._pending = ""
                break
            self._sentences.add(key)
            if key.strip(" ?？") == self._question_key:
                continue  # the model repeating the customer's question back adds nothing
            if not self._check(sentence):
                return ""
            out.append(sentence)
        released = "".join(out)
        self._released.append(released)
        return released

    def finish(self) -> Verdict:
        """Check what is left; the final verdict on the whole answer.

        An unfinished last sentence (the model ran out of tokens) is dropped when there is a
        finished one before it.
        """
        tail = self._pending
        self._pending = ""
        finished = tail.rstrip().endswith((".", "!", "?", "。", "！", "？", ")", '"'))
        wanted = self.verdict.ok and tail.strip() and (finished or not self.text.strip())
        if wanted and self._check(tail):
            self._released.append(tail)
        if self.verdict.ok and not self.text.strip():
            self.verdict = Verdict(False, "empty answer")
        elif self.verdict.ok and not self._language_checked and self.text.strip():
            self._check_language(self.text, final=True)
        if self.verdict.ok:
            same_language = language_group(self.language) in self.facts.languages
            grounding = self.facts.grounding(self.text) if same_language else 1.0
            words = tokenize(self.text)
            if grounding < MIN_GROUNDING:
                self.verdict = Verdict(False, f"not grounded in the sources ({grounding:.0%})")
            elif len(words) >= 8 and len(set(words)) / len(words) < 0.5:
                # "paketan paketan paketan ...": a small model stuck in a loop within a sentence.
                self.verdict = Verdict(False, "repetitive")
        return self.verdict

    def _check(self, sentence: str) -> bool:
        problem = self.facts.unsupported(sentence) or self.facts.unsupported_name(sentence.strip())
        if problem:
            self.verdict = Verdict(False, f"unsupported {problem}")
            return False
        if not self._language_checked:
            self._check_language(self.text + sentence, final=False)
        return self.verdict.ok

    def _check_language(self, text: str, *, final: bool) -> None:
        # Judge the language once there is enough text to judge (a few words), or at the end.
        letters = sum(ch.isalpha() for ch in text)
        if letters < 12 and not final:
            return
        self._language_checked = True
        found = detect_language(text)
        if found in ("en", "ms") and self.language in ("zh", "ja", "ko"):
            # A Chinese answer quoting an English street or product name is still Chinese: as
            # many Chinese characters as Latin words is enough (the customer can read it).
            cjk, latin_words = script_counts(text)
            if cjk >= max(latin_words, 1):
                found = self.language
        if found != self.language:
            self.verdict = Verdict(False, f"answered in {found}, customer wrote in {self.language}")
