"""The extract a customer reads, and the learned gate that decides whether it is shown: an FAQ's
own question is never the answer, a yes/no answer keeps its yes or no, a row answers with the
columns asked about, a question in Chinese finds the Malay opening hours, and a question the
documents never answer is declined; "how much" is answered by the amount a passage states."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatbot.answering.gate import FEATURES, Gate, fit, shipped, threshold_for

EMBEDDED = {"CHATBOT_MODEL__BACKEND": "llamacpp"}

FAQ_MS = """# Soalan Lazim - Kedai Roti Mawar

Ada diskaun untuk warga emas atau pelajar? Tiada. Kami tidak menawarkan diskaun warga emas atau
pelajar buat masa ini.

Boleh tempah kek hari jadi? Boleh. Tempah sekurang-kurangnya 3 hari lebih awal melalui WhatsApp.

## Waktu operasi

Isnin hingga Jumaat: 8.00 pagi - 6.00 petang
Sabtu: 8.00 pagi - 2.00 petang
Ahad: tutup

## Corporate catering

Offices ordering for twenty people or more get morning tea sets at RM12 a person, delivered.
"""

CAKES_CSV = """Item,Small (6 inch),Medium (8 inch),Large (10 inch),Days to order
Birthday cake (butter),RM65,RM95,RM130,3
Chocolate fudge cake,RM75,RM110,RM150,3
Pandan layer cake,RM45,RM70,RM95,2
"""


def _bot(  # type: ignore[no-untyped-def]
    tmp_path_factory: pytest.TempPathFactory,
    run_cli,
    bot: str,
    documents: dict[str, str],
    profile: dict[str, str],
) -> Path:
    """A data directory holding `bot`, its `documents` (file name: text) ingested."""
    import yaml

    data = tmp_path_factory.mktemp(bot)
    docs = data / "docs"
    docs.mkdir()
    for name, text in documents.items():
        (docs / name).write_text(text, encoding="utf-8")
    (data / "config.yaml").write_text(yaml.safe_dump({"bots": {bot: profile}}))
    result = run_cli("ingest", "--bot", bot, str(docs), data_dir=data)
    assert result.code == 0, result.err
    return data


@pytest.fixture(scope="module")
def bakery(tmp_path_factory: pytest.TempPathFactory, run_cli) -> Path:  # type: ignore[no-untyped-def]
    documents = {"soalan-lazim.md": FAQ_MS, "cakes.csv": CAKES_CSV}
    profile = {"business": "Kedai Roti Mawar", "contact": "WhatsApp 012-555 0101"}
    return _bot(tmp_path_factory, run_cli, "bakery", documents, profile)


def ask(run_cli, data: Path, question: str, **env: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    result = run_cli(
        "ask", "--bot", "bakery", "--json", question, data_dir=data, env={**EMBEDDED, **env}
    )
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_an_faqs_own_question_is_never_the_answer_and_the_no_is_kept(run_cli, bakery: Path) -> None:
    answer = ask(run_cli, bakery, "Ada diskaun warga emas?")
    text = str(answer["answer"])
    assert answer["answered"] is True
    assert "Tiada" in text
    assert "Ada diskaun untuk warga emas atau pelajar?" not in text


def test_a_row_answers_with_the_column_asked_about(run_cli, bakery: Path) -> None:
    answer = ask(run_cli, bakery, "How much is a medium birthday cake?")
    text = str(answer["answer"])
    assert answer["answered"] is True
    assert "Medium (8 inch): RM95" in text
    assert "RM130" not in text  # the other sizes are not what was asked


def test_how_much_is_answered_by_the_amount_a_passage_states(run_cli, bakery: Path) -> None:
    # No word of the passage says "price" or "how much": its RM12 does, under its heading.
    answer = ask(run_cli, bakery, "How much is corporate catering?")
    assert answer["answered"] is True
    assert "RM12 a person" in str(answer["answer"])


def test_a_chinese_question_finds_the_malay_opening_hours(run_cli, bakery: Path) -> None:
    # The learned gate judges every passage found; the hand rule only those that share words.
    answer = ask(run_cli, bakery, "星期六几点关门？", CHATBOT_ANSWERING__GATE="learned")
    assert answer["answered"] is True
    assert "2.00 petang" in str(answer["answer"])


def test_a_question_the_documents_never_answer_is_declined(run_cli, bakery: Path) -> None:
    answer = ask(run_cli, bakery, "Do you deliver to Singapore?")
    assert answer["answered"] is False
    assert "012-555 0101" in str(answer["answer"])


FEES_MD = """# Yuran 2026 / Fees 2026

RM per subject per month.

| Subject | Std 1-3 | Std 4-6 | Form 1-3 | Form 4 | Form 5 |
|---|---|---|---|---|---|
| Bahasa Melayu | 60 | 70 | 80 | 95 | 100 |
| Mathematics / Matematik | 65 | 75 | 85 | 100 | 105 |
| Additional Mathematics | - | - | - | 120 | 125 |
"""


@pytest.fixture(scope="module")
def tuition(tmp_path_factory: pytest.TempPathFactory, run_cli) -> Path:  # type: ignore[no-untyped-def]
    profile = {"business": "Pusat Tuisyen Contoh", "contact": "WhatsApp 017-555 0000"}
    return _bot(tmp_path_factory, run_cli, "tuition", {"yuran.md": FEES_MD}, profile)


@pytest.mark.parametrize(
    ("question", "shown", "not_shown"),
    [
        # "darjah 2" is in the column "Std 1-3"; the other levels' fees are not what was asked.
        ("brp yuran matematik utk darjah 2?", "Std 1-3: 65", ("75", "85")),
        ("Maths Std 2 how much?", "Std 1-3: 65", ("75",)),
        # "Form 5", not every column that says "Form".
        ("How much is Mathematics for Form 5?", "Form 5: 105", ("85", "100")),
    ],
)
def test_a_school_level_is_found_however_the_customer_writes_it(  # type: ignore[no-untyped-def]
    run_cli, tuition: Path, question: str, shown: str, not_shown: tuple[str, ...]
) -> None:
    result = run_cli("ask", "--bot", "tuition", "--json", question, data_dir=tuition, env=EMBEDDED)
    assert result.code == 0, result.err
    text = str(json.loads(result.out)["answer"])
    assert shown in text, text
    assert not any(fee in text for fee in not_shown), text


def test_the_shipped_gate_weighs_every_feature_the_extract_describes() -> None:
    gate = shipped()
    # A feature added to the extract without fitting the gate again would weigh nothing.
    weights = dict(zip(FEATURES, gate.weights, strict=True))
    assert all(weight != 0.0 for weight in gate.weights), weights
    assert 0.0 < gate.threshold < 1.0


def test_a_fitted_gate_shows_the_right_answers_and_not_those_that_only_look_right() -> None:
    # Right answers state more of the question and lead the others; wrong ones do not.
    rows = [{"unit": 0.9, "lead": 0.8}] * 30 + [{"unit": 0.3, "lead": 0.1}] * 30
    rows += [{"unit": 0.85, "lead": 0.7}] * 2  # two wrong answers that look right
    labels = [True] * 30 + [False] * 30 + [False] * 2
    weights, bias = fit(rows, labels)
    unjudged = Gate(weights, bias, 0.0)
    chances = [unjudged.chance(r) for r in rows]
    threshold = threshold_for(chances, labels)
    shown = [label for chance, label in zip(chances, labels, strict=True) if chance >= threshold]
    assert sum(shown) == 30  # every right answer shown
    assert sum(not label for label in shown) <= 2  # at most the two that look right
    assert unjudged.chance({"unit": 0.9, "lead": 0.8}) > unjudged.chance({"unit": 0.3})
