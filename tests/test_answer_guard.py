"""What a customer may be shown: facts from the sources only, in the customer's language."""

from __future__ import annotations

import pytest

from chatbot.answering.guard import SourceFacts, StreamGuard
from chatbot.llm.think import without_thinking

SOURCES = [
    "Screen replacement starts from RM120 for older Android phones and from RM350 for recent "
    "iPhones. Call us on 04-261 8833 or e-mail hello@gadgetcare.example.",
    "We are open Monday to Saturday, 10am to 8pm. Details: https://gadgetcare.example/hours",
    "营业时间为星期一至星期六，上午10点至晚上8点。星期天休息。",
]


def shown(answer: str, language: str = "en", pieces: int = 7) -> tuple[str, bool, str]:
    """Feed `answer` in small deltas, as a model streams it; what was shown and the verdict."""
    guard = StreamGuard(SourceFacts(SOURCES), language)
    out = "".join(guard.feed(answer[i : i + pieces]) for i in range(0, len(answer), pieces))
    verdict = guard.finish()
    return out + guard.text[len(out) :], verdict.ok, verdict.reason


def test_an_answer_with_only_sourced_facts_is_shown_whole() -> None:
    text, ok, _ = shown("An iPhone screen is from RM350. We open at 10am, call 04-261 8833.")
    assert ok
    assert text == "An iPhone screen is from RM350. We open at 10am, call 04-261 8833."


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("A new screen costs RM99 and takes an hour.", "figure RM99"),
        ("Please call 012-345 6789 to book.", "number 012-345 6789"),
        ("Write to sales@gadgetcare.example for a quote.", "e-mail sales@gadgetcare.example"),
        ("Book at https://booking.example.com today.", "link https://booking.example.com"),
    ],
)
def test_an_invented_fact_is_withheld(answer: str, reason: str) -> None:
    text, ok, why = shown(answer)
    assert not ok
    assert reason.split()[1] not in text
    assert why.startswith("unsupported") and reason.split()[0] in why


def test_a_sentence_with_an_invented_fact_is_never_released_even_partly() -> None:
    text, ok, _ = shown("We fix screens. The price is RM 75 for all phones. Come by!")
    assert not ok
    assert text == "We fix screens."


def test_a_phone_number_written_differently_from_the_source_is_accepted() -> None:
    _, ok, _ = shown("Call us at 042618833.")
    assert ok


def test_an_answer_in_another_language_than_the_question_is_withheld() -> None:
    _, ok, reason = shown("We are open Monday to Saturday, from 10am to 8pm.", language="ms")
    assert not ok
    assert "customer wrote in ms" in reason


def test_a_chinese_answer_to_a_chinese_question_passes() -> None:
    _, ok, _ = shown("我们星期一至星期六营业，上午10点至晚上8点。", language="zh")
    assert ok


def test_an_answer_about_something_the_sources_never_mention_is_withheld() -> None:
    _, ok, reason = shown("We deliver to Singapore.")
    assert not ok and reason == "unsupported name Singapore"
    _, ok, reason = shown("Yes, I hope that helps, friend.")
    assert not ok and reason.startswith("not grounded in the sources")


def test_a_looping_answer_is_withheld() -> None:
    _, ok, reason = shown("We open Monday, Monday open Monday open, Monday open, Monday open.")
    assert not ok and reason == "repetitive"


def test_the_question_repeated_back_is_not_shown() -> None:
    guard = StreamGuard(SourceFacts(SOURCES, "What are your hours?"), "en")
    shown_text = guard.feed("What are your hours? We open at 10am. ")
    assert guard.finish().ok
    assert shown_text + guard.text[len(shown_text) :] == " We open at 10am."


def test_an_empty_answer_is_not_an_answer() -> None:
    _, ok, reason = shown("   ")
    assert not ok and reason == "empty answer"


@pytest.mark.parametrize("size", [1, 3, 8, 100])
def test_think_sections_never_reach_the_customer(size: int) -> None:
    raw = "<think>The user asks about RM999, maybe.</think>We open at 10am.<think>x</think> Bye."
    deltas = [raw[i : i + size] for i in range(0, len(raw), size)]
    assert "".join(without_thinking(deltas)) == "We open at 10am. Bye."


def test_a_model_repeating_itself_is_cut_after_the_first_time() -> None:
    text, ok, _ = shown("iPhone screens from RM350. Open at 10am. iPhone screens from RM350. iPh")
    assert ok
    assert text == "iPhone screens from RM350. Open at 10am."


def test_an_unfinished_last_sentence_is_dropped() -> None:
    text, ok, _ = shown("We open at 10am. We close at")
    assert ok and text == "We open at 10am."


def test_a_figure_from_another_line_of_the_sources_is_withheld() -> None:
    # RM120 is in the sources, but as the price of older Android screens, not of a battery.
    guard = StreamGuard(SourceFacts(SOURCES, "How much is a new battery?"), "en")
    guard.feed("A new battery costs RM120.")
    verdict = guard.finish()
    assert not verdict.ok
    assert verdict.reason == "unsupported figure RM120 (stated about something else)"


def test_a_short_answer_that_only_adds_a_sourced_figure_is_shown() -> None:
    guard = StreamGuard(SourceFacts(SOURCES, "How much is an iPhone screen?"), "en")
    guard.feed("It costs RM350.")
    assert guard.finish().ok
    assert guard.text == "It costs RM350."


ADDRESS = [
    "Where is the shop?\nWe are at 23 Lebuh Chulia, George Town, 10200 Penang, two doors from "
    "the Chulia Street night market."
]


def guarded(answer: str, language: str, question: str) -> tuple[bool, str]:
    guard = StreamGuard(SourceFacts(ADDRESS, question), language)
    guard.feed(answer)
    verdict = guard.finish()
    return verdict.ok, verdict.reason


@pytest.mark.parametrize(
    ("answer", "language", "question"),
    [
        ("Kedai kami di 23 Lebuh Chulia, George Town.", "ms", "Di manakah kedai anda?"),
        ("我们的店在 23 Lebuh Chulia, George Town。", "zh", "你们的店在哪里？"),
    ],
)
def test_an_answer_in_the_customers_language_from_an_english_passage_is_shown(
    answer: str, language: str, question: str
) -> None:
    # Words cannot be compared across languages, so only the facts are: the street name and
    # the number are the passage's. (The Chinese answer has more Latin letters than Chinese.)
    assert guarded(answer, language, question) == (True, "")


@pytest.mark.parametrize(
    ("answer", "language", "reason"),
    [
        ("Kedai kami di 25 Lebuh Chulia.", "ms", "unsupported figure 25"),
        ("Kedai kami di 23 Jalan Burma, George Town.", "ms", "unsupported name Jalan"),
        (
            "We are at 23 Lebuh Chulia, ask for 陈先生.",
            "zh",
            "answered in en, customer wrote in zh",
        ),
    ],
)
def test_an_answer_across_languages_is_still_held_to_the_passages_facts(
    answer: str, language: str, reason: str
) -> None:
    assert guarded(answer, language, "?") == (False, reason)


PRICE_LIST = [
    (
        "Cool Breeze price list 2026 > Servicing",
        "Office maintenance contract (4 visits a year) · Price: RM480 per unit",
    ),
    ("Cool Breeze price list 2026 > Installation", "Copper piping · Price: RM25 per foot"),
    (
        "Warranty terms > Compressor and parts",
        "York R32 inverter · Compressor: 3 years · Parts: 1 year",
    ),
    ("Warranty terms", "Every installation carries a 1-year workmanship warranty."),
]


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        # RM25 is in the same price list, but it is the piping's price.
        (
            "How much is the office maintenance contract?",
            "The office maintenance contract is RM25.",
        ),
        ("How much is the office maintenance contract?", "It costs RM25 per unit."),
        ("Berapa harga kontrak penyelenggaraan pejabat?", "Kontrak itu berharga RM25."),
        # 1 year is in the York row, but it is the parts' warranty, not the compressor's.
        (
            "What is the warranty on the York compressor?",
            "The York compressor has a 1 year warranty.",
        ),
        ("What is the warranty on the York compressor?", "It is 1 year."),
        # 3 years is the compressor's, not the workmanship's.
        ("How long is the workmanship warranty?", "Workmanship is covered for 3 years."),
    ],
)
def test_a_true_figure_attached_to_the_wrong_thing_is_withheld(question: str, answer: str) -> None:
    guard = StreamGuard(SourceFacts(PRICE_LIST, question), "ms" if "harga" in question else "en")
    assert guard.feed(answer + " ") == ""
    verdict = guard.finish()
    assert not verdict.ok
    assert "stated about something else" in verdict.reason


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (
            "How much is the office maintenance contract?",
            "The office maintenance contract is RM480.",
        ),
        ("How much is copper piping?", "Copper piping is RM25 per foot."),
        ("What is the warranty on the York compressor?", "The York compressor has 3 years."),
        ("What is the warranty on the York compressor?", "It is 3 years."),
        ("And the parts?", "Parts of the York R32 are covered for 1 year."),
        ("How long is the workmanship warranty?", "Workmanship is covered for 1 year."),
    ],
)
def test_a_figure_stated_about_what_the_source_states_it_of_is_shown(
    question: str, answer: str
) -> None:
    guard = StreamGuard(SourceFacts(PRICE_LIST, question), "en")
    guard.feed(answer + " ")
    assert guard.finish().ok, guard.finish().reason


CHINESE_HOURS = [
    ("", "你们星期天营业吗？\n星期天和公共假期休息。营业时间为星期一至星期六，上午10点至晚上8点。")
]


def test_an_answer_that_states_nothing_of_passages_in_another_language_is_withheld() -> None:
    # Seen on the embedded model: "and on Saturday?" after a Chinese question.
    guard = StreamGuard(SourceFacts(CHINESE_HOURS, "and on Saturday?"), "en")
    guard.feed("On Saturday, you can have a cake, and I'll make it for you.")
    verdict = guard.finish()
    assert not verdict.ok and "not about the sources" in verdict.reason
    # One that states the passage's hours is about it, whatever its language.
    guard = StreamGuard(SourceFacts(CHINESE_HOURS, "and on Saturday?"), "en")
    guard.feed("On Saturday we are open from 10am to 8pm.")
    assert guard.finish().ok


@pytest.mark.parametrize(
    "answer",
    [
        "Sure! An iPhone screen is from RM350.",
        "An iPhone screen is from RM350. P.S. Ask about our weekly offers!",
        "Certainly. An iPhone screen is from RM350.\nPS: we love you",
    ],
)
def test_model_chatter_around_the_answer_is_not_shown(answer: str) -> None:
    guard = StreamGuard(SourceFacts(SOURCES, "How much is an iPhone screen?"), "en")
    guard.feed(answer)
    assert guard.finish().ok
    assert guard.text.strip() == "An iPhone screen is from RM350."


def test_an_answer_that_only_asks_a_question_back_is_withheld() -> None:
    guard = StreamGuard(SourceFacts(SOURCES, "How much is an iPhone screen?"), "en")
    guard.feed("How much does a screen replacement cost?")
    verdict = guard.finish()
    assert not verdict.ok and verdict.reason == "only asks"


# In one process, no server or browser: part of the fast tier.
pytestmark = pytest.mark.contract
