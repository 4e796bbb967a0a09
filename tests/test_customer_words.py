"""Customers' own words: greetings, thanks and asking for a person get a reply, not "I couldn't
find that"; chat shorthand ("brp", "utk", "can or not", "how much ah") finds what the documents
say in their own spellings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatbot.answering.smalltalk import SmallTalk, small_talk
from knowledge.colloquial import standard_spelling

EMBEDDED = {"CHATBOT_MODEL__BACKEND": "llamacpp"}


def ask(run_cli, data: Path, *turns: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    result = run_cli("ask", "--bot", "demo-shop", "--json", turns[-1], data_dir=data, env=EMBEDDED)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("hi", SmallTalk.GREETING),
        ("Hello boss!", SmallTalk.GREETING),
        ("Selamat pagi 😊", SmallTalk.GREETING),
        ("你好", SmallTalk.GREETING),
        ("thanks!", SmallTalk.THANKS),
        ("ok tq", SmallTalk.THANKS),
        ("Terima kasih banyak", SmallTalk.THANKS),
        ("谢谢", SmallTalk.THANKS),
        ("bye", SmallTalk.GOODBYE),
        ("are you a bot?", SmallTalk.BOT),
        ("你是机器人吗？", SmallTalk.BOT),
        ("can I talk to a real person?", SmallTalk.PERSON),
        ("hi, I want to speak with someone from your staff", SmallTalk.PERSON),
        ("nak cakap dengan orang boleh?", SmallTalk.PERSON),
        ("我要转人工", SmallTalk.PERSON),
    ],
)
def test_small_talk_is_told_in_english_malay_and_chinese(message: str, kind: SmallTalk) -> None:
    assert small_talk(message) is kind


@pytest.mark.parametrize(
    "message",
    [
        "hi, how much is an iPhone battery?",
        "Hello, are you open on Sunday?",
        "thanks, and how long is the warranty?",
        "Do you sell laptops?",
        "Is the person who repairs phones certified?",
        "你好，换电池多少钱？",
    ],
)
def test_a_question_with_a_greeting_is_still_a_question(message: str) -> None:
    assert small_talk(message) is None


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("brp harga servis utk saga?", "berapa harga servis untuk saga?"),
        ("bole bwk kucing x?", "boleh bawa kucing?"),
        ("can pay by credit card or not?", "can pay by credit card?"),
        ("boss, brake pad how much ah?", "brake pad how much?"),
        ("Myvi 一粒几钱？", "Myvi 一个多少钱？"),
        # "x" is Malay's "tidak" only in a Malay message: a 4x4 stays a 4x4.
        ("How much is a 4x4 tyre?", "How much is a 4x4 tyre?"),
        ("Do you open on Sunday?", "Do you open on Sunday?"),
    ],
)
def test_chat_spellings_become_the_documents_spellings(typed: str, standard: str) -> None:
    assert standard_spelling(typed) == standard


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ("hi", "How can I help"),
        ("Terima kasih!", "Sama-sama"),
        ("你好", "您好"),
        ("can I talk to a real person?", "04-261 8833"),
    ],
)
def test_the_bot_replies_to_small_talk_in_the_customers_language(
    run_cli, demo_shop: Path, message: str, says: str
) -> None:
    reply = ask(run_cli, demo_shop, message)
    assert says in str(reply["answer"])
    assert "couldn't find" not in str(reply["answer"])
    # Not an answer and not a failure: counted apart in the console.
    assert reply["kind"] == "smalltalk" and reply["answered"] is False
    assert reply["fallback"] is None


def test_malay_shorthand_finds_the_answer_the_full_spelling_finds(run_cli, demo_shop: Path) -> None:
    full = ask(run_cli, demo_shop, "Berapa lama tempoh waranti untuk pembaikan?")
    short = ask(run_cli, demo_shop, "brp lama tempoh waranti utk pembaikan?")
    assert full["answered"] is True
    assert short["answered"] is True and short["answer"] == full["answer"]
