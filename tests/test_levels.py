"""Malaysian school levels as customers and fee tables write them (knowledge.levels)."""

from __future__ import annotations

import pytest

from knowledge.levels import levels, without_levels


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("How much is Form 4 Add Maths?", {"§form4"}),
        ("anak sy tingkatan 4, fizik hari apa?", {"§form4"}),
        ("Add Maths F5 hari Rabu", {"§form5"}),
        ("中四化学一个月多少钱？", {"§form4"}),
        ("高中一", {"§form4"}),
        ("brp yuran BM utk darjah 2?", {"§std2"}),
        ("Maths for a Standard 5 kid", {"§std5"}),
        ("小学四年级数学", {"§std4"}),
        ("那一年级呢？", {"§std1"}),
        # A fee table's range is every level in it.
        ("Std 1-3: 60", {"§std1", "§std2", "§std3"}),
        ("Form 4-5 students", {"§form4", "§form5"}),
    ],
)
def test_a_level_is_one_term_however_it_is_written(text: str, named: set[str]) -> None:
    assert levels(text) == named


@pytest.mark.parametrize(
    "text",
    ["其中一个房间", "We opened in year 2026", "RM5 for 4 tyres", "Size 4.5", "F 45 fan"],
)
def test_what_is_not_a_level_names_none(text: str) -> None:
    assert levels(text) == frozenset()


def test_a_levels_digits_are_not_figures_of_the_text() -> None:
    # "Form 4: 95": the price is 95; the 4 names the column.
    assert "4" not in without_levels("Form 4: 95") and "95" in without_levels("Form 4: 95")
