"""The questions one message asks (chatbot.answering.parts)."""

from __future__ import annotations

import pytest

from chatbot.answering.parts import question_parts


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        (
            "How far is it from the airport and how long does it take by car?",
            ["How far is it from the airport?", "how long does it take by car?"],
        ),
        (
            "How much is the deposit, and do I get it back?",
            ["How much is the deposit?", "do I get it back?"],
        ),
        (
            "How much is a diagnostic scan? Is it free if you fix the problem?",
            ["How much is a diagnostic scan?", "Is it free if you fix the problem?"],
        ),
        (
            "Berapa harga servis dan bila boleh ambil?",
            ["Berapa harga servis?", "bila boleh ambil?"],
        ),
        ("押金多少和可以退吗？", ["押金多少？", "可以退吗？"]),
    ],
)
def test_a_message_that_asks_several_questions_is_cut_into_them(
    message: str, parts: list[str]
) -> None:
    assert question_parts(message) == parts


@pytest.mark.parametrize(
    "message",
    [
        "What time is check-in and check-out?",  # nouns joined: one question
        "How much is an iPhone battery?",
        "Is the shop open on Sunday? My phone is 012-345 6789.",  # one question, one statement
        "Brakes and tyres?",
        "hi",
    ],
)
def test_a_message_that_asks_one_question_is_one_part(message: str) -> None:
    assert question_parts(message) == [message]
