"""The demo shop of the quick start: customers asking in English, Malay and Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, Result

DEMO = ROOT / "chatbot" / "demo" / "documents"


@pytest.fixture(scope="module")
def demo_kb(tmp_path_factory: pytest.TempPathFactory, run_cli) -> tuple[Path, Result]:
    data = tmp_path_factory.mktemp("demo")
    return data, run_cli("ingest", "--bot", "demo-shop", str(DEMO), data_dir=data)


def test_the_demo_documents_ingest_cleanly(demo_kb) -> None:
    _, result = demo_kb
    assert result.code == 0, result.out + result.err
    assert result.out.startswith("ingested: 3 ")


@pytest.mark.parametrize(
    ("question", "expected_start"),
    [
        ("Are you open on Sundays?", "What are your opening hours?"),
        ("Berapa lama tempoh waranti untuk pembaikan?", "Berapa lama tempoh waranti"),
        ("你们星期天营业吗？", "你们星期天营业吗？"),
        ("维修有保修吗", "维修有保修吗？"),
        ("Boleh bayar guna Touch 'n Go?", "Bolehkah saya membuat bayaran dengan e-dompet?"),
        # The bilingual price list is the best match, though a Malay passage also names prices.
        ("Berapa harga menukar skrin?", "Gadget Care Penang - Price list 2026"),
    ],
)
def test_a_question_finds_the_faq_entry_in_its_language_first(
    demo_kb, search_hits, question: str, expected_start: str
) -> None:
    data, _ = demo_kb
    hits = search_hits(question, data, k=3, bot="demo-shop")
    assert hits[0]["text"].startswith(expected_start), [h["text"][:60] for h in hits]


def test_a_policy_passage_names_its_section(demo_kb, search_hits) -> None:
    data, _ = demo_kb
    hit = search_hits("How much is delivery to Seberang Perai?", data, bot="demo-shop")[0]
    assert hit["source"] == "policies.docx"
    assert hit["section"] == "Delivery"
    assert "RM12" in hit["text"]
