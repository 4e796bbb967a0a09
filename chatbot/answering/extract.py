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

from chatbot.answering.gate import RULES, Judge
from knowledge.documents import Hit
from knowledge.glossary import concepts
from knowledge.instructions import addressed_to_assistant
from knowledge.keywords import query_terms, without_question_words
from knowledge.language import QueryLanguage, query_language
from knowledge.levels import LEVEL_TERMS, levels
from knowledge.malay import malay_roots
from knowledge.query import LONG_NUMBER, SENTENCE, Query, asking_part, figures_in
from knowledge.scripts import CJK_CHAR

_SHORT_UNIT = 40  # characters: "Yes." or "Tidak." says too little alone
# The least share of the earlier question a follow-up's answer must hold (weighed as the
# question's terms are). sme-dev: 81 right and 16 wrong without it, 81 and 14 at 0.2, 80 and 14
# at 0.25 or 0.4 (the Samsung screen row after the iPhone battery question holds 0.15; the
# Amperon battery row after the NovaCell battery question, a right answer, a little over 0.2).
_KEEPS_SUBJECT = 0.2
_MAX_EXTRACT = 240  # characters of the extract shown, at most
_OPENING = 200  # characters of a passage's opening, when its heading is what answers
_MEANING = 0.5  # weight of the embedding's cosine in ranking units (English questions)


@dataclass(frozen=True, slots=True)
class Extract:
    text: str  # the sentences or row, as they stand in the source
    hit: Hit  # the passage they come from
    confidence: float  # share of the question's terms found, with its figures weighed double
    confident: bool  # the gate's verdict (chatbot.answering.gate)
    features: dict[str, float]  # what the gate weighed


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
    entry: int = -1  # the FAQ entry of its passage it answers (-1: not an FAQ's answer)


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
# The glossary's concepts of those words ("§price" of "how much") say the kind of fact too.
_GENERIC |= frozenset().union(*(concepts(word) for word in _GENERIC))


# Negations are stop words for search, but "What does the warranty not cover?" is answered by
# the sentence that says what it does not.
_NEGATIONS = re.compile(r"\b(?:not|no|never|except|tidak|bukan|tanpa)\b|不|没有|除了", re.I)


def _terms(text: str) -> frozenset[str]:
    # The glossary's concepts, in whatever language they are named: "Sabtu" meets "Saturday";
    # school levels however written: "Tingkatan 4" meets "Form 4", "darjah 2" the column "Std
    # 1-3". (Counting a phrase only as its concept, not also as its words, was tried: sme-dev
    # 81 -> 77 right.)
    named = concepts(text) | levels(text)
    # Malay roots for every text, not only those told Malay: a price list's English row holds
    # "(kontrak penyelenggaraan pejabat)" for Malay customers.
    # Figures are weighed on their own (_figures); a phone number is no term at all.
    words = [
        w
        for w in query_terms(without_question_words(LONG_NUMBER.sub(" ", text)), limit=512)
        if not w.isdigit()
    ]
    roots = malay_roots([w for w in words if w.isalpha()])
    # One term for every negation word: "not" asked is answered by "never" stated.
    negated = {"¬"} if _NEGATIONS.search(text) else set()
    return frozenset({_stem(term) for term in (*words, *roots)} | negated | named)


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


_ASKING = re.compile(r"^(?:问|問|Q|S|Soalan)\s*[:：]\s*|[?？]$", re.IGNORECASE)
_ANSWER_LEAD = re.compile(r"^(?:答|A|J|Jawapan)\s*[:：]\s*", re.IGNORECASE)


def _units(hits: Sequence[Hit]) -> list[_Unit]:
    """Every passage's sentences and rows. An FAQ's question ("Ada diskaun untuk warga emas?",
    "问：有电梯吗？") is never a unit, however well it matches: it heads the sentences that
    answer it, which it names, whether it stands on a line of its own or runs into its answer."""
    units: list[_Unit] = []
    for rank, hit in enumerate(hits):
        text = hit.text.strip()
        base_heads = _terms(f"{hit.title}\n{hit.section}")  # what all of it is about
        pieces = [p.strip() for p in SENTENCE.split(text) if p and p.strip()]
        heads, asks = base_heads, frozenset[str]()
        entry = -1  # which FAQ entry of the passage a piece answers (-1: none)
        heading = hit.section.rsplit(" > ", 1)[-1].strip()
        if heading.endswith(("?", "？")):  # an FAQ entry under its question as a heading
            asks, entry = _terms(heading), 0
        position = 0
        for piece in pieces:
            if _ASKING.search(piece) and len(piece) < 200:
                asks = _terms(_ASKING.sub("", piece))
                heads = base_heads | asks
                entry += 1
                position = 0
                continue
            piece = _ANSWER_LEAD.sub("", piece)
            if not piece or addressed_to_assistant(piece):
                continue  # nothing, or words planted for a chatbot to repeat: no answer
            units.append(
                _Unit(
                    piece,
                    hit,
                    rank,
                    position,
                    heads,
                    _terms(piece) | _kinds_stated(piece),
                    figures_in(piece),
                    asks,
                    entry=entry,
                )
            )
            position += 1
    return units


def _score(unit: _Unit, asked: frozenset[str], figures: frozenset[str], weight: _Weights) -> float:
    """The share of the question found in the unit or in what heads it (a row under "Battery
    replacement" is about battery replacement); each figure of the question that the unit
    states counts double."""
    if not asked and not figures:
        return 0.0
    found = weight(asked & (unit.terms | unit.heads))
    matched = len(figures & unit.figures)
    whole = weight(asked) + 2 * len(figures)
    # (Nothing weighs when every term is a Chinese pair no passage holds: nothing is found.)
    return (found + 2 * matched) / whole if whole else 0.0


def _rank(unit: _Unit, asked: frozenset[str], weight: _Weights) -> float:
    """How much of the question the unit states itself, beyond what heads it: of two rows under
    "Battery replacement", the one that says "iPhone"."""
    return weight(asked & unit.terms) / max(weight(asked), 1.0)


def _joined(first: str, second: str) -> str:
    if not first:
        return second
    # Chinese sentences follow one another without a space.
    return f"{first}{second}" if first.endswith(("。", "！", "？")) else f"{first} {second}"


# What kind of fact a question asks for, and how a unit that states one looks: "When is Form 5
# Physics?" wants a day or a time, which the fee row "Physics · Form 5: 115" does not hold,
# though it names every word of the question.
_ASKS_TIME = re.compile(
    r"\b(?:when|what time|which days?|what days?|opening hours|office hours|bila|bilakah|pukul "
    r"berapa|jam berapa|hari apa|waktu)\b|几点|星期几|什么时候|哪天|几时|营业时间",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|pagi|petang|malam)\b|\b\d{1,2}[:.]\d{2}\b|"
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|isnin|selasa|rabu|khamis|"
    r"jumaat|sabtu|ahad)\b|星期[一二三四五六日天]|周[一二三四五六日]|点|[0-9]+\s*月\s*[0-9]+",
    re.IGNORECASE,
)
_ASKS_AMOUNT = re.compile(
    r"\b(?:how much|price|prices|cost|costs|fee|fees|charge|charges|rate|rates|discounts?|"
    r"berapa harga|harga|yuran|caj|kos|bayaran|diskaun|potongan)\b|多少钱|价格|价钱|费用|收费|学费|"
    r"几钱|折扣|优惠",
    re.IGNORECASE,
)
_AMOUNT_IN = re.compile(
    r"\bRM\s*\d|\d+(?:[.,]\d+)?\s*%|\b(?:free|percuma|waived|no charge)\b|免费|"
    r"(?:price|harga|fee|yuran|charge|rm\)?)[^·]{0,30}:\s*(?:from\s+)?\d",
    re.IGNORECASE,
)
_ASKS_NUMBER = re.compile(
    r"\b(?:whatsapp|phone|number|call|contact|hotline|nombor|telefon|hubungi)\b|电话|号码|联络",
    re.IGNORECASE,
)
_PHONE = re.compile(r"\b0\d{1,2}-?\s?\d{3,4}\s?\d{3,4}\b")
_ASKS_WHO = re.compile(r"\b(?:who|whom|siapa|siapakah)\b|哪位|谁", re.IGNORECASE)
_PERSON = re.compile(r"\b(?:Mr|Ms|Mrs|Mdm|Dr|Encik|Puan|Cik|Cikgu)\.?\s+[A-Z]|老师|先生|女士")


# The glossary's concepts of a kind of fact, held by a unit that states one: "RM260 a unit"
# states a price though no word of it says so, as "How much is a corporate contract?" asks.
_KIND_CONCEPTS = (
    (_AMOUNT_IN, concepts("price fee charge")),
    (_TIME, concepts("time")),
)


# The words that ask for a time or an amount say what kind of fact is wanted, which `_fits`
# weighs; they are not words the answer must hold. Counted, "what time is check out" was given
# the check-in rules' "tell us your arrival time by 6:00 pm" (it says "time") before the row
# "Check-out · By 11:00 am", and "How much to change the front brake pads on a Honda City?" had
# too little of it found in the brake pads' row. sme-dev: 78 -> 81 right, 17 -> 18 wrong
# (with school levels as terms: 81 right, 16 wrong).
_ASKING_PHRASE = re.compile(
    r"\b(?:what time|how much|how many|pukul berapa|jam berapa)\b|几点", re.IGNORECASE
)


def _kinds_stated(text: str) -> frozenset[str]:
    return frozenset().union(*(names for shape, names in _KIND_CONCEPTS if shape.search(text)))


def _wanted(question: str) -> list[re.Pattern[str]]:
    """The shapes of the facts `question` asks for: a time or day, an amount, a phone number,
    a person; none for a question of another kind ("Do you take American Express?")."""
    wanted = []
    if _ASKS_TIME.search(question):
        wanted.append(_TIME)
    if _ASKS_AMOUNT.search(question):
        wanted.append(_AMOUNT_IN)
    if _ASKS_NUMBER.search(question):
        wanted.append(_PHONE)
    if _ASKS_WHO.search(question):
        wanted.append(_PERSON)
    return wanted


# A price list's or rate table's number is an amount though its cell says no "RM": the row
# "Nyonya Room · Regular season Weekend(Fri-Sat): 260" under "Room rates 2026".
_PRICED = re.compile(
    r"\b(?:rates?|prices?|pricing|fees?|charges?|tariffs?|harga|kadar|yuran|caj|tarif|RM)\b|"
    r"价格|价目|收费|费用|学费",
    re.IGNORECASE,
)
_VALUE = re.compile(r":\s*(?:from\s+|dari\s+)?\d")


def _states(unit: _Unit, shape: re.Pattern[str]) -> bool:
    if shape.search(unit.text):
        return True
    # (The heading is read only for an amount the unit's own words do not show.)
    return (
        shape is _AMOUNT_IN
        and _VALUE.search(unit.text) is not None
        and _PRICED.search(f"{unit.hit.title}\n{unit.hit.section}") is not None
    )


def _fits(unit: _Unit, wanted: list[re.Pattern[str]]) -> float:
    """The share of the kinds of fact asked for that the unit (or its heading) states."""
    if not wanted:
        return 0.0
    return sum(_states(unit, shape) for shape in wanted) / len(wanted)


# The question's closeness to each unit, by meaning (the embedding model's cosine).
Closeness = Callable[[str, list[str]], list[float]]


def extract(
    query: Query,
    hits: Sequence[Hit],
    language: str,
    *,
    also: Query | None = None,
    closeness: Closeness | None = None,
    gate: Judge | None = None,
) -> Extract | None:
    """The best unit of `hits` for `question` (with `also`, the question a follow-up follows, as
    a weaker second source of terms), or None when there are no hits. `closeness`, for English
    questions (the embedding model reads little else), ranks units by meaning as well: "Can I
    return an opened phone case?" is about the returns policy's sentence, not the case's price
    row, though the row holds "phone case". `gate` (the hand rule unless given; the learned
    gate where `answering.gate` says so) says whether the unit is shown."""
    units = _units(hits)
    if not units:
        return None
    question = asking_part(query.text)
    group = query.customer  # ties go to units in the customer's language
    if closeness is not None and query.language is QueryLanguage.ENGLISH:
        meaning = closeness(question, [unit.text for unit in units])
        units = [replace(u, closeness=m) for u, m in zip(units, meaning, strict=True)]
    asked = _terms(_ASKING_PHRASE.sub(" ", question))
    figures = query.figures
    earlier = _terms(_ASKING_PHRASE.sub(" ", also.text)) - asked if also else frozenset()
    weight = _Weights(units)
    wanted = _wanted(question)

    def score(unit: _Unit) -> float:
        base = _score(unit, asked, figures, weight) + 0.25 * _rank(unit, asked, weight)
        base += 0.3 * _fits(unit, wanted)
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

    scores = {id(unit): score(unit) for unit in units}
    best = max(units, key=lambda u: scores[id(u)])
    siblings = [u for u in units if u.hit.chunk_id == best.hit.chunk_id]
    chosen = _described(
        best,
        siblings,
        query,
        scores,
        asked,
        figures,
        earlier=earlier,
        weight=weight,
        wanted=wanted,
        same_group=group,
        language=language,
    )
    confidence = max(chosen["unit"], (chosen["unit"] + chosen["passage"]) / 2)
    text = _shown(best, siblings, asked, figures, weight, follow_up=bool(earlier))
    confident = (gate or RULES).passes(chosen)
    cjk = QueryLanguage.CJK
    same_script = also is not None and (also.language is cjk) == (query.language is cjk)
    if earlier and same_script and chosen["earlier"] < _KEEPS_SUBJECT:
        # A follow-up changes one thing and keeps the rest: "and for Samsung?" (or "kalau
        # Samsung?") after the iPhone battery's price is not answered by the Samsung *screen*
        # row, which holds the new word and little of the battery. (Only within one script:
        # "and on Saturday?" after "你们的营业时间是什么？" shares concepts with the English
        # answer, not words; English and Malay share names, models and borrowed words.)
        confident = False
    return Extract(text, best.hit, confidence, confident, chosen)


def _described(
    best: _Unit,
    siblings: list[_Unit],
    query: Query,
    scores: dict[int, float],
    asked: frozenset[str],
    figures: frozenset[str],
    *,
    earlier: frozenset[str],
    weight: _Weights,
    wanted: list[re.Pattern[str]],
    same_group: QueryLanguage,
    language: str,
) -> dict[str, float]:
    """What the gate weighs of the best unit (chatbot.answering.gate.FEATURES)."""
    # A follow-up is judged by what it asks itself ("and on Saturday?": Saturday), the earlier
    # question only ranking; one that asks nothing of its own by both.
    judged = asked if asked or figures else earlier
    specific = frozenset(t for t in (asked or earlier) if t not in _GENERIC)
    unknown = frozenset(t for t in judged if not weight.df.get(t))
    own_score = scores[id(best)]
    # The best other unit's score (its own when it stands alone: no lead).
    rival = max((v for k, v in scores.items() if k != id(best)), default=own_score)
    # What the rest of its passage says counts too: "Adakah kedai buka pada hari Ahad?" is
    # answered by "Kami tutup pada hari Ahad", under the entry that says "Kami buka".
    passage = replace(best, terms=frozenset().union(*(u.terms for u in siblings)))
    # A generic word alone ("kedai" of "Di manakah kedai anda?") says nothing of what is asked.
    names_it = bool(specific & (best.terms | best.heads)) or bool(figures & best.figures)
    if not specific and not figures:
        # Nothing but generic words ("Where is the shop?"): an FAQ entry asking just that.
        names_it = bool(best.asks) and len(best.asks & asked) >= 0.5 * len(best.asks)
    return {
        "score": own_score / 3,
        "unit": _score(best, judged, figures, weight),
        "passage": _score(passage, judged, figures, weight),
        "own": _rank(best, judged, weight),
        "closeness": max(best.closeness, 0.0),
        "figures": len(figures & best.figures) / len(figures) if figures else 0.0,
        "has_figures": 1.0 if figures else 0.0,
        "names": 1.0 if names_it else 0.0,
        "unknown": weight(unknown) / max(weight(judged), 1.0) if judged else 0.0,
        "asks": len(best.asks & (asked | earlier)) / len(best.asks) if best.asks else 0.0,
        "earlier": (
            weight(earlier & (best.terms | best.heads)) / max(weight(earlier), 1.0)
            if earlier
            else 0.0
        ),
        "rank": 1 / (1 + best.rank),
        "similarity": max(best.hit.similarity or 0.0, 0.0),
        "coverage": query.coverage(f"{best.hit.section}\n{best.hit.text}"),
        "lead": max(-1.0, min(1.0, own_score - rival)),
        "wants": 1.0 if wanted else 0.0,
        "fits": _fits(best, wanted),
        "row": 1.0 if " · " in best.text else 0.0,
        "first": 1 / (1 + best.position),
        "same_language": 1.0 if query_language(best.text) is same_group else 0.0,
        "zh": 1.0 if language == "zh" else 0.0,
        "ms": 1.0 if language == "ms" else 0.0,
    }


def _shown(
    best: _Unit,
    siblings: list[_Unit],
    asked: frozenset[str],
    figures: frozenset[str],
    weight: _Weights,
    *,
    follow_up: bool = False,
) -> str:
    """What the customer is shown of the best unit's passage: an FAQ's answer from its start
    (where it says yes or no), a row's name with the columns asked about, a sentence with the
    next when it alone says too little, the passage's opening when only its heading matches.
    A follow-up's FAQ answer starts at the best unit: the entry's yes or no answers the entry's
    question ("Adakah kedai buka pada hari Ahad?": "Tidak."), not "kalau hari Sabtu?"."""
    if best.entry >= 0:
        entry = [u for u in siblings if u.entry == best.entry]
        if follow_up:
            entry = [u for u in entry if u.position >= best.position]
        text = ""
        for unit in entry:
            if text and len(text) + len(unit.text) > _MAX_EXTRACT:
                break
            text = _joined(text, unit.text)
        return _cut(text)
    if " · " in best.text:
        return _cut(_row_asked(best.text, asked, figures))
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
    return _cut(text)


_AMOUNT = re.compile(r"^(?:from\s+|dari\s+)?(?:RM\s*)?[\d][\d.,]*\s*%?$|^FREE$|^-$", re.I)


def _row_asked(row: str, asked: frozenset[str], figures: frozenset[str]) -> str:
    """A table row with the columns the question names ("Nyonya Room · Regular season
    Weekend(Fri-Sat): 260" of its seven), or whole when it names none of them. When the columns
    it names hold no amount ("Service: Minor service - fully synthetic"), the row's amounts
    come too: a customer asking about a service asks what it costs."""
    name, *cells = row.split(" · ")
    labelled = [c for c in cells if ": " in c]
    if len(labelled) < 3:
        return row

    def label(cell: str) -> str:
        return cell.partition(": ")[0]

    def value(cell: str) -> str:
        return cell.partition(": ")[2]

    asked_levels = asked & LEVEL_TERMS

    def named(cell: str) -> bool:
        if asked_levels and (column_levels := levels(label(cell))):
            # "Form 5" of "Form 1-3 · Form 4 · Form 5": the level, not the word "form".
            return bool(column_levels & asked_levels)
        # "Set of 4 (RM)" for "4 tyres".
        return bool(_terms(label(cell)) & asked or figures_in(cell) & figures)

    wanted = [c for c in labelled if named(c)]
    amounts = [c for c in labelled if _AMOUNT.match(value(c).strip())]
    if wanted and not any(c in amounts for c in wanted):
        wanted += amounts
    if not wanted or len(wanted) == len(labelled):
        return row
    return " · ".join([name, *(c for c in labelled if c in wanted)])


def _cut(text: str) -> str:
    if len(text) <= _MAX_EXTRACT:
        return text
    cut = text[:_MAX_EXTRACT]
    end = max(cut.rfind(", "), cut.rfind("，"), cut.rfind(" "))
    return (cut[:end] if end > _MAX_EXTRACT // 2 else cut).rstrip(" ,") + " …"
