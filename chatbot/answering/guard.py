"""Keep invented facts from reaching a customer.

Small models make up prices, dates, phone numbers and links, and they attach a true figure to
the wrong thing ("the maintenance contract is RM25" when RM25 is the price of piping, in the
same price list). Every such fact in an answer must stand in a source sentence or row that also
names what the answer attaches it to, and in that row, in the part (clause, cell) that matches
the answer best; an answer with one that does not is withheld and the bot gives the extract
that answers instead (chatbot.answering.extract). Nothing is shown before the whole answer has
passed (chatbot.answering.chain).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from chatbot.answering.language import detect_language, language_group
from knowledge.keywords import STOPWORDS, tokenize
from knowledge.language import QueryLanguage, query_language, script_counts
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
# A row's cells and a sentence's clauses: where a figure's own words end ("York R32 ·
# Compressor: 3 years · Parts: 1 year"; "RM150, done in 45 minutes").
_CLAUSE = re.compile(r"\s*(?:[,|·，、]|\s[-–—]\s)\s*")
# Words that say what kind of figure it is, not what it is the figure of: "the price of the
# maintenance contract is RM25" shares "price" with "Copper piping · Price: RM25 per foot".
# fmt: off
_GENERIC = frozenset((
    "price", "prices", "pric", "cost", "costs", "charge", "charg", "fee", "rate", "total",
    "much", "many", "long", "per", "unit", "each", "from", "only", "about", "around", "year",
    "yea", "month", "week", "day", "hour", "minute", "time", "harga", "kos", "caj", "bayaran",
    "yuran", "tahun", "bulan", "minggu", "hari", "jam", "minit", "berapa", "价格", "价钱",
    "收费", "费用", "多少", "小时", "分钟", "时间",
))
# fmt: on
# Chatter a small model puts around an answer: a leading "Sure!", a trailing "P.S. ...".
_OPENER = re.compile(
    r"^\s*(?:sure|certainly|of course|absolutely|great question|good question|okay|ok|"
    r"baiklah|tentu|sudah tentu|当然|好的)\b[^.!?。！？]{0,40}[.!?。！？]\s*$",
    re.IGNORECASE,
)
_CURRENCY = re.compile(r"(?:RM|MYR|USD|SGD|RMB|Rp|US|S)", re.IGNORECASE)
_POSTSCRIPT = re.compile(r"^\s*(?:P\.?\s?S\.?|N\.?B\.?|Note:)(?:\s|$)", re.IGNORECASE)
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


def _subject_words(text: str) -> set[str]:
    return {word for word in _content_words(text) if word not in _GENERIC}


@dataclass(frozen=True, slots=True)
class _Segment:
    """A source sentence or row, cut into clauses (cells): the first one heads the rest (a row's
    label, "York R32 inverter"; a sentence's main clause), and so does the passage's section."""

    numbers: set[str]
    head: tuple[set[str], set[str]]  # the first clause's figures and subject words
    clauses: list[tuple[set[str], set[str]]]  # the others'
    language: QueryLanguage
    passage: int  # its passage's rank in the search
    latin: set[str]  # its Latin-script words as written (names read alike in every language)
    words: set[str]  # all its subject words, with its section's

    def names(self, about: set[str]) -> int:
        """How many of `about`'s words the whole sentence or row, with its section, holds."""
        return len(self.words & about)

    def states_of(self, digits: str, about: set[str]) -> bool:
        """Whether, within this row, `digits` is the figure of the cell (clause) that names
        `about` best: the row's own figure (in its label) always is; a cell's must name it at
        least as well as any other cell holding a figure."""
        if digits in self.head[0]:
            return True
        ours = max((len(w & about) for n, w in self.clauses if digits in n), default=-1)
        rival = max((len(w & about) for n, w in self.clauses if n and digits not in n), default=0)
        return ours >= rival


_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


def _words_as_written(text: str) -> set[str]:
    return {w.lower() for w in _LATIN_WORD.findall(text)} - _GENERIC - STOPWORDS


def _segment(text: str, section_words: set[str], passage: int) -> _Segment:
    clauses = [
        (_numbers(clause), _subject_words(clause))
        for clause in _CLAUSE.split(text)
        if clause.strip()
    ] or [(set(), set())]
    return _Segment(
        _numbers(text),
        clauses[0],
        clauses[1:],
        query_language(text),
        passage,
        _words_as_written(text),
        clauses[0][1].union(section_words, *(words for _, words in clauses[1:])),
    )


class SourceFacts:
    """What the sources state, normalised for comparison. `passages` are texts, or (section,
    text) pairs: a row under "Battery replacement" is about a battery replacement."""

    def __init__(self, passages: Iterable[str | tuple[str, str]], question: str = "") -> None:
        pairs = [p if isinstance(p, tuple) else ("", p) for p in passages]
        texts = [text for _, text in pairs]
        text = "\n".join(texts)
        # Word grounding compares words, so it says nothing about an answer in Malay from an
        # English passage; figures, names and links are checked whatever the languages.
        self.languages = {query_language(passage) for passage in texts}
        self.lowered = text.lower()
        self.numbers = _numbers(_URL.sub(" ", text))
        self.all_digits = _digits(text)
        self.question_lowered = question.lower()
        self.question_words = _content_words(question)
        self.source_words = _content_words(text)
        self.question_subject = _subject_words(question)
        self.question_written = _words_as_written(question)
        # Each source sentence or row, by clause: a figure must be stated about the same thing,
        # not just somewhere ("battery RM50" when RM50 is the price of a data transfer).
        self.segments = [
            _segment(segment, _subject_words(section), rank)
            for rank, (section, passage) in enumerate(pairs)
            for segment in _SEGMENT.split(_URL.sub(" ", passage))
            if segment.strip()
        ]

    def _figure_in_context(self, digits: str, sentence: str) -> bool:
        """Whether the sources state `digits` of what `sentence` (or, for a terse "It is
        RM150.", the question) attaches them to: of all the source clauses and cells holding a
        figure, the one that names that thing best must hold this one. "1 year" of "York R32 ·
        Compressor: 3 years · Parts: 1 year" is the parts' warranty, not the compressor's; RM25
        of "Copper piping · Price: RM25" is not the maintenance contract's."""
        about = _subject_words(sentence) | self.question_subject
        language = query_language(sentence)
        same = [seg for seg in self.segments if seg.language is language and seg.numbers]
        holding = [seg for seg in same if digits in seg.numbers]
        if holding:
            # The rows and sentences naming the thing best, of all that hold a figure: this
            # figure must be in one of them, in its cell for that thing.
            best = max(seg.names(about) for seg in same)
            return best > 0 and any(
                seg.names(about) == best and seg.states_of(digits, about) for seg in holding
            )
        # Across languages words cannot be compared, only what both write alike (names, model
        # numbers: "23 Lebuh Chulia"); or the figure is in the passage search ranked first.
        written = _words_as_written(sentence) | self.question_written
        return any(
            digits in seg.numbers and (seg.passage == 0 or seg.latin & written)
            for seg in self.segments
        )

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

    def anchored(self, answer: str) -> bool:
        """Whether the answer states a fact the sources hold (a figure, link, e-mail or name of
        theirs): what ties an answer to passages in another language, whose words cannot be
        compared with its own."""
        if _URL.search(answer) or _EMAIL.search(answer) or _NUMBER.search(answer):
            return True  # each was checked against the sources on its own
        names = {m.group(0).lower() for m in _NAME.finditer(answer)}
        return any(name in self.lowered for name in names)

    def unsupported(self, sentence: str) -> str | None:
        """The first fact of `sentence` the sources do not state, or None."""
        for url in _URL.findall(sentence):
            if url.rstrip(".,;:!?").lower() not in self.lowered:
                return f"link {url}"
        for email in _EMAIL.findall(sentence):
            if email.lower() not in self.lowered:
                return f"e-mail {email}"
        rest = _EMAIL.sub(" ", _URL.sub(" ", sentence))
        for match in _NUMBER.finditer(rest):
            digits = _digits(match.group(0))
            start = match.start()
            while start > 0 and rest[start - 1].isalpha():  # "RM120", not just "120"
                start -= 1
            shown = rest[start : match.end()].strip()
            prefix = rest[start : match.start()]
            if prefix and not _CURRENCY.fullmatch(prefix) and len(digits) < 7:
                # A model name ("R32", "S23"): it must be the sources', whatever it is said of.
                if digits not in self.numbers:
                    return f"figure {shown}"
                continue
            if len(digits) >= 7:  # a phone or account number: the same digits must be there
                if digits not in self.all_digits:
                    return f"number {shown}"
            elif digits not in self.numbers:
                return f"figure {shown}"
            elif not self._figure_in_context(digits, rest):
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
        out: list[str] = []
        while (end := _SENTENCE_END.search(self._pending)) is not None:
            if _POSTSCRIPT.match(self._pending):
                self.complete = True  # "P.S. ...": what follows is not the answer
                self._pending = ""
                break
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
            if not self.text.strip() and not "".join(out).strip() and _OPENER.match(sentence):
                continue  # "Sure!" before the answer
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
        tail = "" if _POSTSCRIPT.match(self._pending) else self._pending
        self._pending = ""
        finished = tail.rstrip().endswith((".", "!", "?", "。", "！", "？", ")", '"'))
        wanted = self.verdict.ok and tail.strip() and (finished or not self.text.strip())
        if wanted and self._check(tail):
            self._released.append(tail)
        if self.verdict.ok and not self.text.strip():
            self.verdict = Verdict(False, "empty answer")
        elif self.verdict.ok and all(
            s.strip().endswith(("?", "？")) for s in _SEGMENT.split(self.text) if s.strip()
        ):
            # A source's FAQ question given back ("How much does a screen replacement cost?")
            # passes every fact check and answers nothing.
            self.verdict = Verdict(False, "only asks")
        elif self.verdict.ok and not self._language_checked and self.text.strip():
            self._check_language(self.text, final=True)
        if self.verdict.ok:
            same_language = language_group(self.language) in self.facts.languages
            grounding = self.facts.grounding(self.text) if same_language else 1.0
            words = tokenize(self.text)
            if not same_language and not self.facts.anchored(self.text):
                # "On Saturday, you can have a cake" under a Chinese passage: nothing in it is
                # the sources', so nothing says it is about them.
                self.verdict = Verdict(False, "not about the sources (no fact of theirs)")
            elif grounding < MIN_GROUNDING:
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
