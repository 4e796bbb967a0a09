"""Test questions suggested from a bot's own documents, so that a business has a few dozen in
minutes, to check and keep: each FAQ entry's question with a fact of its answer, each priced
table or list row as "How much is …?" with its price. Staff correct the wording and the facts;
a suggestion is a start, not a verdict.

What makes one worth keeping, and so what is chosen (docs/EVALUATION.md has the measure):
- **a whole fact** a right answer must hold: a price, a time or its range ("10am to 8pm"), a
  duration, a percentage, a phone number; failing that, a short clause of the answer that says
  something alone ("we repair phones and tablets only"). Never a bare number ("11") or words
  cut off mid-phrase ("People in the U");
- **one right answer**: a question two entries answer differently ("How much is Deluxe?" of a
  weekday and a weekend rate) is left out;
- **spread as customers ask**: prices first, then policies (delivery, payment, warranty,
  cancellation), hours, places and contacts, in shares of what customers of small businesses
  ask (`_SHARES`), each kind taken in turn from every document, so that one long spreadsheet
  does not fill the list;
- no question twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from chatbot.answering.language import detect_language
from chatbot.evaluation.questions import TestQuestion
from knowledge.base import KnowledgeBase
from knowledge.documents import Chunk

_TO = r"\s?(?:-|–|—|to|hingga|sampai|至|到)\s?"
_MONEY = (
    rf"(?<![A-Za-z])(?:RM|MYR|S?\$)\s?\d[\d,]*(?:\.\d+)?(?:{_TO}(?:RM|MYR|S?\$)?\s?\d[\d,]*(?:\.\d+)?)?"
    r"|\d[\d,]*(?:\.\d+)?\s?(?:ringgit|令吉|元)"
)
_CLOCK = r"\d{1,2}(?:[:.]\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.|pagi|petang|malam)"
_TIME = (
    rf"{_CLOCK}(?:{_TO}{_CLOCK})?|\d{{1,2}}[:.]\d{{2}}(?:{_TO}\d{{1,2}}[:.]\d{{2}})?"
    r"|(?:上午|下午|晚上|早上)\s?\d{1,2}(?:[:：点]\d{0,2})?"
)
_DURATION = (
    rf"\d+(?:{_TO}\d+)?\s?(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|hari"
    r"|minggu|bulan|tahun|jam|minit|分钟|小时|天|周|星期|个月|年)"
)
_PHONE = r"\+?6?0\d{1,2}[-\s]?\d{3,4}[-\s]?\d{4}"
# The fact a right answer must hold, the first of these the answer states.
_FACT = re.compile(rf"{_MONEY}|{_TIME}|{_DURATION}|\d+(?:\.\d+)?\s?%|{_PHONE}", re.IGNORECASE)
_PRICE = re.compile(_MONEY, re.IGNORECASE)
_ROW_PRICE = {"en": "How much is {}?", "ms": "Berapa harga {}?", "zh": "{}多少钱？"}
# A clause of an answer that says something alone: a few words, ending on a whole word.
_CLAUSE_WORDS = (3, 9)
_WEAK_ENDS = {"the", "a", "an", "of", "in", "to", "for", "and", "or", "dan", "di", "ke", "yang"}
_YES_NO = re.compile(
    r"^(?:yes|no|ya|tidak|tak|boleh|ada|tiada|是的|是|不是|不|可以|有|会|不会)\b[,.!，。！ ]*", re.I
)

# What customers of small businesses ask about, by the words of the question, and the share of
# suggestions each kind gets (the rest, "other", last).
_KINDS = {
    "price": r"how much|price|cost|fee|charge|rate|berapa|harga|kos|bayaran|caj|多少钱|价|费",
    "policy": r"refund|return|warrant|cancel|deposit|pay|card|deliver|ship|book|reserv|polic"
    r"|guarantee|pulang|jaminan|batal|bayar|kad|hantar|tempah|退|保修|取消|付|送|预订|订",
    "time": r"open|close|hour|time|when|today|sunday|weekend|holiday|how long|buka|tutup"
    r"|pukul|bila|jam|waktu|berapa lama|几点|营业|时间|什么时候|星期|多久",
    "place": r"where|address|locat|park|near|contact|phone|whatsapp|e-?mail|mana|alamat"
    r"|lokasi|hubungi|在哪|地址|停车|联系",
}
_KIND_WORDS = {kind: re.compile(words, re.IGNORECASE) for kind, words in _KINDS.items()}
_SHARES = {"price": 0.4, "policy": 0.25, "time": 0.2, "place": 0.1, "other": 0.05}


def _fact(text: str) -> str | None:
    found = _FACT.search(text)
    return found.group(0).strip().rstrip(",.;") if found else None


def _clause(sentence: str) -> str | None:
    """A short clause that states something alone, or None: after a "Yes," or "Tidak," when
    the rest says something, else with it ("Tiada buat masa ini")."""
    bare = _YES_NO.sub("", sentence.strip()).strip()
    return _first_clause(bare, 4) or _first_clause(sentence.strip())


def _first_clause(said: str, fewest: int = _CLAUSE_WORDS[0]) -> str | None:
    first = re.split(r"[,;:，；：。.!?！？]| - | — ", said, maxsplit=1)[0].strip()
    if re.search(r"[\u4e00-\u9fff]", first):  # Chinese: no spaces to count words by
        return first if 3 <= len(first) <= 16 else None
    words = first.split()
    if not fewest <= len(words) <= _CLAUSE_WORDS[1] or words[-1].lower() in _WEAK_ENDS:
        return None
    return first


def _from_faq(chunk: Chunk, source: str | None) -> TestQuestion | None:
    """An FAQ pair's question, or a section's that is a question (FAQ pages in Markdown, Word
    or HTML), with a fact of the answer under it."""
    question = chunk.question or ""
    answer = chunk.text.partition("\n")[2] if chunk.is_faq else chunk.text
    # From the answer's first sentence, which answers the question; a figure further on is
    # often a detail ("... done in 2 hours" after "We replace cracked screens ...").
    # Sentences end at a stop followed by a space (not the "." of "8.30") or a Chinese stop.
    sentences = [x for x in re.split(r"(?<=[.!?])\s+|(?<=[。！？])", answer.strip()) if x]
    if not sentences or not question.strip():
        return None
    # "Yes." or "Boleh." alone says little: the sentence after it says what ("没有电梯。"
    # says it all).
    short = _YES_NO.fullmatch(sentences[0].strip()) is not None
    first = sentences[1] if short and len(sentences) > 1 else sentences[0]
    fact = _fact(first) or _clause(first)
    if not fact:
        return None
    return TestQuestion((question.strip(),), (fact,), source, True, detect_language(question))


def from_answer(question: str, answer: str, source: str | None) -> TestQuestion | None:
    """A question with the answer staff wrote for it (a pinned answer), as a test question."""
    return _from_faq(Chunk(f"{question.strip()}\n{answer.strip()}", None, "", 0, True), source)


def _from_row(chunk: Chunk, source: str) -> TestQuestion | None:
    """A row "iPhone battery · Price: RM150", a line "iPhone battery: RM150, done in 45
    minutes", or a row whose prices stand in columns named for ringgit ("item: Airport
    transfer - Sedan · price_rm: 75", one price per car class: "Kancil/Axia (RM): 98"): its
    name, asked for its price (for the first class, where there are several)."""
    cells = [c.strip() for c in re.split(r"\s·\s", chunk.text.strip())]
    label = _name(cells) if len(cells) > 1 else re.split(r":\s", chunk.text, maxsplit=1)[0]
    label = label.strip()
    if not 2 <= len(label) <= 60 or label == chunk.text.strip() or _PRICE.search(label):
        return None
    priced = [m for c in cells if (m := _RINGGIT_COLUMN.fullmatch(c))]
    language = detect_language(label)
    if priced:  # the price in a column named for ringgit: for the first of its columns
        column, amount = priced[0].group(1).strip(), priced[0].group(2)
        asked = label if len(priced) == 1 else f"{label} ({_column_name(column)})"
        fact = amount
    elif price := _PRICE.search(chunk.text):
        asked, fact = label, price.group(0).strip().rstrip(",.;")
    else:
        return None
    template = _ROW_PRICE.get(language, _ROW_PRICE["en"])
    return TestQuestion((template.format(asked),), (fact,), source, True, language)


# A cell "Kancil/Axia (RM): 98", "price_rm: 75", "Harga / Price (RM): 320".
_RINGGIT_COLUMN = re.compile(
    r"(.*?(?:\(RM\)|\bRM\b|_rm\b|\bringgit\b).*?):\s*(\d[\d,]*(?:\.\d+)?)", re.IGNORECASE
)


def _name(cells: list[str]) -> str:
    """A row's name: its first cell that says something in words (a code "SV-01" or a size
    "13\"" does not), without its column's name, cut before details in brackets or after
    "+"."""
    for cell in cells:
        value = cell.split(": ", 1)[-1]
        if len(re.findall(r"[^\W\d_]", value)) >= 3 and not _RINGGIT_COLUMN.fullmatch(cell):
            return re.split(r"\s\(|\s\+\s|¹|²|³", value, maxsplit=1)[0]
    return ""


def _column_name(column: str) -> str:
    return re.sub(r"\s*\((?:RM|ringgit)\)|_?rm\b", "", column, flags=re.IGNORECASE).strip()


def kind_of(question: str) -> str:
    """What a question asks about: price, policy, time, place, or other."""
    for kind, words in _KIND_WORDS.items():
        if words.search(question):
            return kind
    return "other"


def _inline_pairs(chunk: Chunk, source: str) -> list[TestQuestion]:
    """Questions written into running text with their answers ("问：有电梯吗？ 答：没有电梯。",
    "Ada arah kiblat? Ada. Arah kiblat ditanda …"), as FAQ pages often are."""
    found = []
    for asked, answer in _PAIR.findall(chunk.text):
        question = re.split(r"问[:：]|\bQ[:.]", asked)[-1]  # not a heading run into it
        pair = Chunk(f"{question.strip()}\n{answer.strip()}", chunk.page, "", 0, True)
        if (made := _from_faq(pair, source)) is not None:
            found.append(made)
    return found


# A question (a line's or sentence's start to its question mark) and the answer after it, up
# to the next question or line.
_PAIR = re.compile(
    r"(?:^|(?<=[\n.!。！]))\s*(?:问[:：]|Q[:.]\s*|S[:.]\s*)?([^\n.!?。！？]{4,120}[?？])"
    r"\s*(?:答[:：]|A[:.]|J[:.])?\s*(.+?)(?=\s*(?:问[:：]|\n|$)|\s+[^\n.!?。！？]{4,120}[?？])",
    re.DOTALL,
)


def suggest(knowledge: KnowledgeBase, most: int = 30) -> list[TestQuestion]:
    """Up to `most` questions, in the shares customers ask about each kind, taken in turn
    from every document; none asked twice, none with two different right answers."""
    made: list[tuple[int, TestQuestion]] = []  # (the document's place, the question)
    for place, record in enumerate(knowledge.documents()):
        for chunk in knowledge.chunks_of(record.source):
            found: Sequence[TestQuestion | None]
            if chunk.question:
                found = [_from_faq(chunk, record.source)]
            elif "?" in chunk.text or "？" in chunk.text:
                found = _inline_pairs(chunk, record.source)
            else:
                found = [_from_row(chunk, record.source)]
            made += [(place, q) for q in found if q is not None]
    return _chosen(_one_answer_each(made), most)


def _one_answer_each(made: list[tuple[int, TestQuestion]]) -> list[tuple[int, TestQuestion]]:
    """Each question once; one that two entries answer with different facts, not at all."""
    facts: dict[str, set[str]] = {}
    for _, q in made:
        facts.setdefault(q.question.casefold(), set()).add(q.expect[0].casefold())
    seen: set[str] = set()
    kept = []
    for place, q in made:
        key = q.question.casefold()
        if len(facts[key]) == 1 and key not in seen:
            seen.add(key)
            kept.append((place, q))
    return kept


def _chosen(made: list[tuple[int, TestQuestion]], most: int) -> list[TestQuestion]:
    by_kind: dict[str, list[tuple[int, TestQuestion]]] = {kind: [] for kind in _SHARES}
    for place, q in made:
        by_kind[kind_of(q.question)].append((place, q))
    chosen: list[TestQuestion] = []
    left: dict[str, list[TestQuestion]] = {}
    for kind, share in _SHARES.items():
        spread = list(_in_turn(by_kind[kind]))
        quota = round(share * most)
        chosen += spread[:quota]
        left[kind] = spread[quota:]
    for kind in _SHARES:  # what a kind could not fill goes to the others, in the same order
        chosen += left[kind][: max(0, most - len(chosen))]
    return chosen[:most]


def _in_turn(made: Iterable[tuple[int, TestQuestion]]) -> Iterable[TestQuestion]:
    """One from each document in turn, each document's in its own order."""
    queues: dict[int, list[TestQuestion]] = {}
    for place, q in made:
        queues.setdefault(place, []).append(q)
    while any(queues.values()):
        for queue in queues.values():
            if queue:
                yield queue.pop(0)
