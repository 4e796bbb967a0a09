"""What a customer reads as the answer: the right fact in a line or two, never a wrong one.

The two answer packs (chatbot/demo, examples/aircon-shop: documents a small business has,
questions with the facts a right answer holds) asked through the real chain on the embedded
default setup; follow-ups and questions that stand on their own; document titles.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import answer_quality
from chatbot.answering.chain import Turn
from chatbot.answering.followup import is_follow_up

EMBEDDED = {"CHATBOT_MODEL__BACKEND": "llamacpp"}


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return answer_quality.pack_data(tmp_path_factory.mktemp("packs"))


@pytest.fixture(scope="module")
def services(packs: Path) -> Iterator[Any]:
    from chatbot.services import Services
    from chatbot.settings import load_settings

    settings = load_settings(data_dir=packs)
    settings.model.backend = "llamacpp"
    built = Services(settings)
    yield built
    built.close()


@pytest.mark.parametrize("bot", list(answer_quality.PACKS))
def test_each_pack_is_answered_right_and_never_wrong_on_the_embedded_default(
    services: Any, bot: str
) -> None:
    outcomes = answer_quality.run(services.answerer(bot), bot)
    answerable = [o for o in outcomes if o.question.answerable]
    out_of_scope = [o for o in outcomes if not o.question.answerable]
    wrong = [(o.question.turns, o.text) for o in outcomes if o.wrong]
    assert wrong == []  # the worst defect: a wrong fact shown as the answer
    assert sum(o.right for o in answerable) >= 0.9 * len(answerable)
    assert sum(not o.answered for o in out_of_scope) >= 0.9 * len(out_of_scope)
    lengths = sorted(len(o.text) for o in outcomes if o.answered)
    assert lengths[len(lengths) // 2] <= 200


def test_a_question_that_stands_on_its_own_is_searched_on_its_own(services: Any) -> None:
    answerer = services.answerer("demo-shop")
    english = answerer.answer("How much does an iPhone battery replacement cost?")
    malay = answerer.answer(
        "Adakah kedai buka pada hari Ahad?", [Turn(english.question, english.text)]
    )
    assert malay.search_query == "Adakah kedai buka pada hari Ahad?"
    assert malay.kind == "extract" and "tutup pada hari Ahad" in malay.text
    assert malay.language == "ms"


def test_a_follow_up_is_read_with_the_question_before_it_and_answered_in_its_language(
    services: Any,
) -> None:
    answerer = services.answerer("aircon-shop")
    first = answerer.answer("How much is a chemical wash for a 1.0 HP unit?")
    assert "RM150" in first.text
    then = answerer.answer("and for 2.5 HP?", [Turn(first.question, first.text)])
    assert then.kind == "extract" and "RM180" in then.text
    chinese = answerer.answer("你们的营业时间是什么？")
    saturday = answerer.answer("and on Saturday?", [Turn(chinese.question, chinese.text)])
    # In English, from the English entry: not the Chinese one, and not a model's invention.
    assert saturday.language == "en"
    # The FAQ entry's answer from its start: the sentence that says Saturday, then the rest.
    assert saturday.text.startswith("From our FAQ:\nWe are open Monday to Saturday, 9am to 6pm.")


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("Berapa harga chemical wash untuk 1.0 HP?", "kalau 2.5 HP?"),
        ("Berapa harga chemical wash untuk 1.0 HP?", "2.5 HP pula?"),
        ("How much is a chemical wash for a 1.0 HP unit?", "what if it's 2.5 HP?"),
    ],
)
def test_a_follow_up_that_only_says_what_changed_gets_the_new_row(
    services: Any, first: str, then: str
) -> None:
    # "kalau", "pula", "if" say how the follow-up leans on the question before, not what it
    # asks: counted as words to find, no row held them and the answer was declined.
    answerer = services.answerer("aircon-shop")
    before = answerer.answer(first)
    assert "RM150" in before.text
    after = answerer.answer(then, [Turn(before.question, before.text)])
    assert after.kind == "extract" and "RM180" in after.text, after.text


@pytest.mark.parametrize("then", ["and for Samsung?", "kalau Samsung?", "Samsung pula?"])
def test_a_follow_up_keeps_the_subject_it_does_not_change(services: Any, then: str) -> None:
    # The price list has no Samsung battery row: its Samsung *screen* row was shown as the
    # answer (the issue's own example); declined, the customer gets the shop's contact. So
    # too when the follow-up is in Malay: customers switch between English and Malay.
    answerer = services.answerer("demo-shop")
    battery = answerer.answer("How much is an iPhone battery replacement?")
    assert "RM150" in battery.text
    samsung = answerer.answer(then, [Turn(battery.question, battery.text)])
    assert "Galaxy" not in samsung.text, samsung.text
    assert not samsung.answered


def test_a_follow_up_is_not_given_the_yes_or_no_of_the_question_before(services: Any) -> None:
    answerer = services.answerer("demo-shop")
    sunday = answerer.answer("Adakah kedai buka pada hari Ahad?")
    assert "Tidak" in sunday.text  # closed on Sunday
    saturday = answerer.answer("kalau hari Sabtu?", [Turn(sunday.question, sunday.text)])
    # "Tidak." answered the Sunday question; shown again, it read as "closed on Saturday".
    assert "Tidak" not in saturday.text
    assert "Isnin hingga Sabtu" in saturday.text


def test_a_message_asking_two_things_gets_both_each_from_its_document(services: Any) -> None:
    answerer = services.answerer("demo-shop")
    answer = answerer.answer(
        "How much is an iPhone battery replacement, and are you open on Sunday?"
    )
    assert answer.kind == "extract"
    assert "RM150" in answer.text  # the price list
    assert "closed on Sundays" in answer.text  # the FAQ
    assert len(answer.sources) == 2


def test_a_message_asking_two_things_is_not_half_answered(services: Any) -> None:
    # The shop does not repair laptops: the battery's price alone, shown as the answer, would
    # read as if it did.
    answerer = services.answerer("demo-shop")
    answer = answerer.answer("How much is an iPhone battery replacement? Do you repair laptops?")
    assert "RM150" not in answer.text


@pytest.mark.parametrize(
    ("misspelt", "fact"),
    [
        ("How much is an iPhone batery replacment?", "RM150"),
        ("how much to chnage the screen protecter?", "RM25"),
    ],
)
def test_a_misspelling_of_the_documents_words_is_answered_as_the_word(
    services: Any, misspelt: str, fact: str
) -> None:
    # One letter wrong or missing lost the row: keywords and the extract match words as written.
    answer = services.answerer("demo-shop").answer(misspelt)
    assert answer.kind == "extract" and fact in answer.text, answer.text


def test_a_word_the_documents_never_use_is_not_taken_for_one_they_do(services: Any) -> None:
    # "laptops" is one letter from nothing the shop sells; "Singapur" near no word of its
    # documents: both stay questions the shop cannot answer.
    answerer = services.answerer("demo-shop")
    for question in ("Do you repair laptops?", "Do you deliver to Singapur?"):
        answer = answerer.answer(question)
        assert not answer.answered, (question, answer.text)


@pytest.mark.parametrize(
    ("message", "follows"),
    [
        ("and for 2.5 HP?", True),
        ("那2.5匹的呢？", True),
        ("what about water heaters?", True),
        ("and on Saturday?", True),
        ("Bagaimana pula dengan hari Sabtu?", True),
        ("2.5 HP pula?", True),
        ("Tingkatan 4 pula?", True),
        ("How much is it?", True),
        ("星期六呢？", True),
        ("Adakah kedai buka pada hari Ahad?", False),
        ("Do you sell laptops?", False),
        ("What are your opening hours?", False),
        ("你们星期天营业吗？", False),
        ("Screen replacement for Samsung S23", False),
    ],
)
def test_only_a_real_follow_up_is_read_with_the_conversation(message: str, follows: bool) -> None:
    assert is_follow_up(message) is follows


def test_customers_see_a_documents_title_staff_can_change_and_a_new_version_keeps(
    run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    documents = Path(__file__).parents[1] / "chatbot" / "demo" / "documents"
    faq = tmp_path / "faq.csv"
    faq.write_bytes((documents / "faq.csv").read_bytes())
    assert run_cli("ingest", "--bot", "shop", str(faq), data_dir=tmp_path / "data").code == 0

    def ask() -> dict[str, Any]:
        result = run_cli(
            "ask",
            "--bot",
            "shop",
            "--json",
            "What are your opening hours?",
            data_dir=tmp_path / "data",
            env=EMBEDDED,
        )
        assert result.code == 0, result.err
        return json.loads(result.out)  # type: ignore[no-any-return]

    assert ask()["sources"][0]["title"] == "FAQ"
    renamed = run_cli(
        "retitle",
        "--bot",
        "shop",
        "faq.csv",
        "Questions customers ask",
        data_dir=tmp_path / "data",
    )
    assert renamed.code == 0, renamed.err
    answer = ask()
    assert answer["answer"].startswith("From our Questions customers ask:")
    assert answer["sources"][0]["title"] == "Questions customers ask"
    faq.write_text(faq.read_text() + 'Do you open on Hari Raya?,"No, we close for 3 days."\n')
    assert run_cli("ingest", "--bot", "shop", str(faq), data_dir=tmp_path / "data").code == 0
    assert ask()["sources"][0]["title"] == "Questions customers ask"
    empty = run_cli("retitle", "--bot", "shop", "faq.csv", "  ", data_dir=tmp_path / "data")
    assert empty.code == 1 and "1 to 200 characters" in empty.err
