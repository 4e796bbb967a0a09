"""Structure kept at ingest: tables in PDFs as rows and columns, a timetable grid as day · time ·
class, a spreadsheet's header found under its title block, a web page's two-row header, a
letterhead read once, a two-column table of labels and values without a header. Read from the
sme-dev businesses' own documents, as small businesses make them."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.loaders import kind_of, load_bytes
from knowledge.splitting import split_blocks, table_rows
from tests.conftest import CORPUS, SHARED

SME = SHARED / "eval" / "sme-dev"


def passages(path: Path) -> list[str]:
    document = load_bytes(kind_of(path), path.read_bytes(), 100)
    return [chunk.text for chunk in split_blocks(document.blocks, title=document.title)]


def test_a_pdf_price_list_reads_each_service_with_its_price_per_car_class() -> None:
    found = passages(SME / "workshop" / "docs" / "service-price-list-2026.pdf")
    assert (
        "TR-03 · Service / Perkhidmatan: ATF flush by machine (full change) · Kancil/Axia (RM):"
        " 260 · Myvi/City (RM): 320 · SUV/MPV (RM): 420"
    ) in found
    # pypdf alone ran the columns together: "SV-01 Minor service ... 98 125 168 SV-02 ...".
    assert not any("168 SV-02" in p for p in found)


def test_a_timetable_grid_keeps_each_class_with_its_day_and_time() -> None:
    found = passages(SME / "tuition" / "docs" / "timetable-2026.pdf")
    assert "Thursday · 8:00 - 10:00 pm · F4 Physics (R1)" in found
    assert "Saturday · 9:00 - 11:00 am · F4 Maths (R1-A)" in found  # under the WEEKEND times
    assert "Sunday · 2:30 - 4:30 pm · CLOSED" in found


def test_a_letterhead_on_every_page_is_read_once() -> None:
    found = passages(SME / "workshop" / "docs" / "service-price-list-2026.pdf")
    letterheads = [p for p in found if "Jalan Industri Mertajam 2" in p]
    assert len(letterheads) == 1, letterheads


def test_wrapped_text_in_a_pdf_cell_stays_one_cell() -> None:
    found = passages(SME / "homestay" / "docs" / "cancellation-policy.pdf")
    assert "7 - 13 days · Regular season: 50% refund · Peak season: No refund" in found, found


def test_a_spreadsheets_header_is_found_under_its_title_block() -> None:
    found = passages(SME / "tuition" / "docs" / "fee-schedule-2026.xlsx")
    assert any(
        p.startswith("Additional Mathematics · Std 1-3: - ") and "Form 4: 120" in p for p in found
    ), found


def test_a_web_pages_two_row_header_names_each_column_by_both_rows() -> None:
    found = passages(SME / "homestay" / "docs" / "rooms-and-rates.html")
    row = next(p for p in found if p.startswith("Nyonya Room ·"))
    assert "Regular season Weekend(Fri-Sat): 260" in row
    assert "Peak season Weekday(Sun-Thu): 290" in row


@pytest.mark.parametrize(
    ("table", "rows"),
    [
        # Labels and values, no header: "3:00 pm - 10:00 pm" names no column.
        (
            "Check-in | 3:00 pm - 10:00 pm\nCheck-out | By 11:00 am",
            ["Check-in · 3:00 pm - 10:00 pm", "Check-out · By 11:00 am"],
        ),
        # Two lists side by side: each cell told by its column.
        (
            "Accepted | NOT accepted\nCash | Cheques\nDebit card | American Express",
            [
                "Accepted: Cash · NOT accepted: Cheques",
                "Accepted: Debit card · NOT accepted: American Express",
            ],
        ),
        # A title row and a note row in a wider table stand alone.
        (
            "PRICE LIST 2026 |  | \nItem | Small | Large\nWash | 10 | 15\n"
            "Prices include SST. |  | ",
            ["PRICE LIST 2026", "Wash · Small: 10 · Large: 15", "Prices include SST."],
        ),
    ],
)
def test_table_rows_read_on_their_own(table: str, rows: list[str]) -> None:
    assert table_rows(table) == rows


def test_a_sentence_repeated_in_the_body_of_later_pages_is_kept_each_time() -> None:
    # A press release repeats "Setelah membuat penilaian risiko…" in each of its items, on page
    # after page: content, not a letterhead; only a page's top and bottom lines are furniture.
    from pypdf import PdfReader

    path = CORPUS / "pdf" / "malaysia-press-release-2021.pdf"
    phrase = "Setelah membuat penilaian risiko"
    pages = " ".join(page.extract_text() for page in PdfReader(path).pages)
    read = " ".join(passages(path))
    assert read.count(phrase) == pages.count(phrase) > 2


def test_only_pages_that_draw_rules_across_and_down_are_read_for_tables() -> None:
    """pdfplumber reads every character of a page it looks at for tables (a second or more of
    CPU a page), and finds a cell only between two rules across and two down. The manual's
    contents pages underline each entry (hundreds of level rules, no plumb one): read as text,
    not looked through for a table. Every page of the sme-dev documents that holds a table
    is still looked through."""
    from pypdf import PdfReader

    from knowledge.loaders.pdf_tables import may_hold_table

    manual = PdfReader(CORPUS / "pdf" / "army-manual-619-pages.pdf", strict=False)
    assert not any(may_hold_table(manual.pages[n]) for n in (0, 1, 2, 3, 177, 309))
    for name in ("workshop/docs/service-price-list-2026.pdf", "tuition/docs/timetable-2026.pdf"):
        pages = PdfReader(SME / name).pages
        assert all(may_hold_table(page) for page in pages), name
