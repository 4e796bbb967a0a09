"""Structure survives loading and splitting: headings, FAQ pairs, tables, pages, encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.documents import Block, BlockKind, title_of
from knowledge.errors import RejectedFile
from knowledge.keywords import index_terms, query_terms, tokenize
from knowledge.language import text_language
from knowledge.loaders import kind_of, load_bytes
from knowledge.splitting import SplitSettings, estimate_tokens, split_blocks
from tests.conftest import corpus


def _load(relative: str):
    path = corpus(relative)
    return load_bytes(kind_of(path), path.read_bytes(), max_pages=5000)


def test_every_faq_pair_of_a_question_answer_csv_is_one_whole_passage() -> None:
    blocks = _load("csv/covid-faq-213-pairs.csv").blocks
    assert len(blocks) == 213 and all(b.kind is BlockKind.FAQ for b in blocks)
    chunks = split_blocks(blocks)
    # Every passage starts with its question, and pairs that fit are never cut.
    assert {c.text.split("\n", 1)[0] for c in chunks} == {b.text.split("\n", 1)[0] for b in blocks}
    whole = [b.text for b in blocks if estimate_tokens(b.text) <= 240]
    assert set(whole) <= {c.text for c in chunks}
    first = next(c for c in chunks if c.text.startswith("What is a novel coronavirus?"))
    assert "has not been previously identified" in first.text


def test_word_headings_become_the_section_of_the_passages_below_them() -> None:
    chunks = split_blocks(_load("docx/handbook-872-pages.docx").blocks)
    assert sum(1 for c in chunks if c.section) > len(chunks) * 0.9
    assert max(c.page or 0 for c in chunks) > 40  # Word's page breaks give page numbers


def test_a_table_is_split_row_by_row_each_row_with_its_headers_and_the_title() -> None:
    table = "Model | Price\n" + "\n".join(f"Phone {i} | RM{i}00" for i in range(200))
    blocks = [
        Block(BlockKind.HEADING, "Prices", level=1),
        Block(BlockKind.TABLE, "Service | HP | Price\nChemical wash | 1.0 – 1.5 | RM150"),
        Block(BlockKind.TABLE, table),
    ]
    chunks = split_blocks(blocks, SplitSettings(target_tokens=100, max_tokens=120), "List 2026")
    assert chunks[0].text == "Chemical wash · HP: 1.0 – 1.5 · Price: RM150"
    assert chunks[0].section == "List 2026 > Prices"
    assert [c.text for c in chunks[1:4]] == [f"Phone {i} · Price: RM{i}00" for i in range(3)]
    assert len(chunks) == 201
    assert all(estimate_tokens(c.indexed_text()) <= 120 for c in chunks)


@pytest.mark.parametrize(
    ("name", "title", "row", "section"),
    [
        (
            "chatbot/demo/documents/price-list.pdf",
            "Gadget Care Penang price list",
            "iPhone battery: RM150, done in 45 minutes.",
            "Gadget Care Penang price list > Battery replacement / Tukar bateri",
        ),
        (
            "examples/aircon-shop/documents/warranty.docx",
            "Sejuk Aircon Services: warranty terms",
            "York · Compressor: 3 years · Parts: 1 year · Workmanship: 6 months",
            "Sejuk Aircon Services: warranty terms > Warranty by brand",
        ),
        (
            "examples/aircon-shop/documents/services.md",
            "Sejuk Aircon commercial services and Chinese price list",
            "Ducted system service · Price: RM400 · Notes: per system",
            "Sejuk Aircon commercial services and Chinese price list > Commercial services",
        ),
    ],
)
def test_a_price_list_in_a_pdf_word_or_markdown_answers_row_by_row(
    name: str, title: str, row: str, section: str
) -> None:
    path = Path(__file__).parents[1] / name
    loaded = load_bytes(kind_of(path), path.read_bytes(), 100)
    assert title_of(loaded, path.name) == title
    chunks = split_blocks(loaded.blocks, title=title)
    assert len(chunks) > 4  # a one-page price list is never one passage
    found = [c for c in chunks if c.text == row]
    assert found and found[0].section == section


def test_a_csv_price_table_is_one_passage_per_row_and_a_file_name_becomes_a_title() -> None:
    from knowledge.loaders.csvfaq import load_csv

    loaded = load_csv(b"Item,Price,Unit\nCopper piping,RM25,per foot\nGas top-up,RM120,per unit\n")
    title = title_of(loaded, "uploads/price_list-2026.csv")
    assert title == "Price list 2026"
    chunks = split_blocks(loaded.blocks, title=title)
    assert [(c.section, c.text) for c in chunks] == [
        ("Price list 2026", "Copper piping · Price: RM25 · Unit: per foot"),
        ("Price list 2026", "Gas top-up · Price: RM120 · Unit: per unit"),
    ]
    assert title_of(loaded, "faq.csv") == "FAQ"


@pytest.mark.parametrize(
    ("name", "title"),
    [
        # Their writers stored "(anonymous)" or "untitled": what the first line says instead.
        ("pdf/retail-receipt.pdf", "Techmart Electronics"),
        ("pdf/invoice-borderless-table.pdf", "Inventory Reconciliation Report"),
        ("pdf/movie-theater-booking.pdf", "Booking Order"),
        # No stored title: named by the file as before, whatever the first line says (a form's
        # opening instruction in capitals is not its title).
        ("docx/malaysia-hso-form-en.docx", "Malaysia hso form en"),
        ("pdf/malaysia-press-release-2021.pdf", "Malaysia press release 2021"),
        ("pdf/thesis-117-pages-german.pdf", "Geometrie und Topologie"),  # its own, kept
    ],
)
def test_a_document_whose_stored_title_names_nothing_is_titled_by_what_it_says(
    name: str, title: str
) -> None:
    path = corpus(name)
    loaded = load_bytes(kind_of(path), path.read_bytes(), 1000)
    assert title_of(loaded, path.name) == title


def test_prose_with_figures_on_wrapped_lines_stays_one_paragraph() -> None:
    from knowledge.loaders.textblocks import text_blocks

    text = (
        "We deliver accessories anywhere on Penang Island for RM8, free for orders above\n"
        "RM100. Mainland (Seberang Perai) delivery costs RM12. Orders placed before 3pm\n"
        "arrive the same day."
    )
    assert [b.kind for b in text_blocks(text)] == [BlockKind.PARAGRAPH]


def test_pdf_passages_keep_their_page_numbers() -> None:
    loaded = _load("pdf/malaysia-press-release-2021.pdf")
    chunks = split_blocks(loaded.blocks)
    assert loaded.pages == 13
    assert chunks[0].page == 1 and chunks[-1].page == 13


def test_markdown_sections_follow_their_headings_and_drop_page_furniture() -> None:
    chunks = split_blocks(_load("md/msia-sg-travel-faq-pca.md").blocks)
    first = chunks[0]
    assert first.section == (
        "Travelling: PCA > Does the Periodic Commuting Arrangement (PCA) apply to us SPRs?"
    )
    assert first.text.startswith("Yes, if you are employed by a company.")
    assert not any("{#" in c.section or "layout: page" in c.text for c in chunks)


def test_html_keeps_the_main_text_and_drops_scripts_and_navigation() -> None:
    text = "\n".join(b.text for b in _load("html/page-with-scripts.html").blocks)
    assert "Russian Offensive Campaign Assessment" in text
    assert "function(" not in text and "var " not in text


@pytest.mark.parametrize(
    ("relative", "expected"),
    [("html/steel-datasheet-utf16.html", "SteelJIS"), ("csv/stanley-cups-utf16.csv", "Blues")],
)
def test_utf16_files_without_a_declared_encoding_read_correctly(
    relative: str, expected: str
) -> None:
    assert expected in "\n".join(b.text for b in _load(relative).blocks)


def test_windows_1252_html_reads_its_accents_and_quotes() -> None:
    text = "\n".join(b.text for b in _load("html/cp1252-encoded.html").blocks)
    assert "\ufffd" not in text
    assert any(ord(ch) > 127 for ch in text)


def test_csv_delimiters_are_detected() -> None:
    text = _load("csv/semicolon-delimited.csv").blocks[0].text
    assert text.splitlines()[0] == "Lorem, ipsum | dolor sit | amet"


def test_chinese_is_indexed_as_overlapping_character_pairs_and_malay_by_word_roots() -> None:
    assert tokenize("新冠病毒") == ["新冠", "冠病", "病毒"]
    assert tokenize("Berapakah harga tiket ke Pulau Pinang?") == [
        "berapakah",
        "harga",
        "tiket",
        "pulau",
        "pinang",
    ]
    malay = "Penghantaran percuma untuk pembayaran melebihi RM100."
    assert index_terms(malay, text_language(malay)) == [
        "hantar",
        "percuma",
        "bayar",
        "lebih",
        "rm100",
    ]
    # A customer's "dihantar" finds "penghantaran"; the question word is not searched for.
    assert query_terms("Bilakah barang saya dihantar?") == ["barang", "hantar", "dihantar"]
    # English is left to SQLite's porter stemmer: Malay affix rules would cut "berlin" to "lin".
    english = "The minister flew to Berlin."
    assert index_terms(english, text_language(english)) == ["minister", "flew", "berlin"]


def test_blank_and_whitespace_only_files_are_rejected_as_empty(tmp_path: Path) -> None:
    with pytest.raises(RejectedFile, match="the file is empty"):
        load_bytes("text", b"  \n\t\n", 10)
    with pytest.raises(RejectedFile, match="no text found"):
        load_bytes("html", b"<html><body><script>x()</script></body></html>", 10)


def test_text_in_one_to_three_scripts_is_not_taken_for_garbled() -> None:
    from knowledge.loaders.textblocks import looks_garbled

    trilingual = "Waktu operasi kedai: Isnin hingga Sabtu. 营业时间为星期一至星期六。" * 10
    japanese = "営業時間は月曜日から土曜日までです。カードでのお支払いも可能です。" * 10
    garbled = "ɹɹং Θͨ͘͠ͱ͍;ݱ৅͸၊ఆ͞Εͨ༗ަػྲྀి౯ͷͻͱͭͷ੨͍র໌Ͱ͢ớ͋ΒΏΔಁ໌ͳ༓ྶͷෳ߹ମỜ෩ܠ΍ΈΜͳͱ͍ỳ" * 5
    assert not looks_garbled(trilingual) and not looks_garbled(japanese)
    assert looks_garbled(garbled)


# In one process, no server or browser: part of the fast tier.
pytestmark = pytest.mark.contract
