"""Customers' misspellings of a bot's own words, made those words (knowledge.vocabulary)."""

from __future__ import annotations

import pytest

from knowledge.vocabulary import Vocabulary

PRICE_LIST = Vocabulary(
    [
        "Radiator coolant flush: RM120",
        "Check-out by 11:00 am. Late check-out until 1 pm: RM40.",
        "Monthly fees for secondary students. SPM classes. We accept cheques.",
        "No smoking inside the house. Bicycle rental per day: RM15.",
    ]
)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("hw much for radiatr coolant flush", "hw much for radiator coolant flush"),
        ("what time is chek out", "what time is check out"),
        ("monthy fee for secondry students", "monthly fee for secondary students"),
        ("Bicyle rental?", "Bicycle rental?"),
    ],
)
def test_a_misspelling_of_a_word_the_documents_use_becomes_that_word(
    typed: str, meant: str
) -> None:
    assert PRICE_LIST.corrected(typed) == meant


@pytest.mark.parametrize(
    "message",
    [
        "Do you deliver to Singapore?",  # named nowhere in the documents: still declined
        "It is very quiet?",  # an English word, though one letter from nothing here
        "Can I pay by cheque?",  # a form of the documents' "cheques"
        "Is smoking allowed? Someone smokes",  # forms of "smoking"
        "Do you teach STPM?",  # an acronym, not "SPM" misspelt
        "What about last year's results?",  # a contraction
    ],
)
def test_words_that_are_not_misspellings_are_left_as_typed(message: str) -> None:
    assert PRICE_LIST.corrected(message) == message


def test_a_misspelling_as_near_two_words_is_left_alone() -> None:
    # "bime" is one letter from both: no guessing which the customer meant.
    assert Vocabulary(["bike hire", "bite size"]).corrected("bime hire") == "bime hire"
