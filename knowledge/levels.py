"""Malaysian school levels, however they are written, as one term each: "Form 4", "F4",
"Tingkatan 4" and "中四" are `§form4`; "Standard 2", "Std 2", "Darjah 2" and "二年级" are `§std2`;
a range in a fee table ("Std 1-3", "Form 4-5") stands for every level in it.

Tuition centres, schools' canteens and bookshops price and schedule by level, and their
customers write the level as they speak: the fee table's "Std 1-3: 60" answers "brp yuran BM
utk darjah 2?" and "小学二年级华文多少钱？" only when both name `§std2`. The digits of a level are
not the question's figures: "Form 4" asks about no "4" that a price must show.
"""

from __future__ import annotations

import re

_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}
# (Form 6, lower and upper, is a college year: not among the levels a range is read over.)
_LEVEL = re.compile(
    r"\b(?P<kind>form|tingkatan|f|std|standard|darjah)\s*(?P<first>[1-6])"
    r"(?:\s*(?:-|–|to|hingga|until)\s*(?P<last>[1-6]))?(?!\d|\.\d)\b",
    re.IGNORECASE,
)
# (Not 其中一个 "one of them", 当中: 中 is a level only before a numeral that counts nothing.)
_CHINESE_FORM = re.compile(
    r"(?<![其当之])(?:初中|高中|中)(?P<first>[一二三四五六])"
    r"(?:(?:至|到|-)(?P<last>[一二三四五六]))?(?![个些次天位间种条号])"
)
_CHINESE_STD = re.compile(
    r"(?:小学)?(?P<first>[一二三四五六])(?:至|到|-)(?P<last>[一二三四五六])年级|"
    r"(?:小学)?(?P<one>[一二三四五六])年级"
)
_FORMS = ("form", "tingkatan", "f")


def _span(kind: str, first: int, last: int | None) -> frozenset[str]:
    last = first if last is None or last < first else last
    return frozenset(f"§{kind}{n}" for n in range(first, last + 1))


def levels(text: str) -> frozenset[str]:
    """The school levels `text` names, as `§form<n>` and `§std<n>` terms."""
    found: set[str] = set()
    for match in _LEVEL.finditer(text):
        kind = "form" if match["kind"].casefold() in _FORMS else "std"
        last = int(match["last"]) if match["last"] else None
        found |= _span(kind, int(match["first"]), last)
    for match in _CHINESE_FORM.finditer(text):
        high = match.group(0).startswith("高中")  # 高中一 is Form 4
        first = _CHINESE_DIGITS[match["first"]] + (3 if high else 0)
        last = _CHINESE_DIGITS[match["last"]] + (3 if high else 0) if match["last"] else None
        found |= _span("form", first, last)
    for match in _CHINESE_STD.finditer(text):
        if match["one"]:
            found |= _span("std", _CHINESE_DIGITS[match["one"]], None)
        else:
            found |= _span("std", _CHINESE_DIGITS[match["first"]], _CHINESE_DIGITS[match["last"]])
    return frozenset(found)


# Every level term there is, to tell them among a question's terms.
LEVEL_TERMS = _span("form", 1, 6) | _span("std", 1, 6)


def without_levels(text: str) -> str:
    """`text` with the levels it names blanked out: their digits are not figures."""
    return _LEVEL.sub(" ", text)
