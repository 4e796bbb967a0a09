"""Spreadsheets as staff keep them: an .xlsx price list (as Excel saves it, formulas with their
last values), an .ods from LibreOffice, hidden sheets, broken files. Ingested by the command
line and asked as a customer would (#19)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from knowledge.documents import BlockKind
from knowledge.errors import RejectedFile
from knowledge.loaders import kind_of, load_bytes
from knowledge.splitting import split_blocks

EXTRACT = {"CHATBOT_ANSWERING__MODE": "extract"}


def price_list_xlsx(*, saved_by_excel: bool = True) -> bytes:
    """A service price list, an FAQ sheet and a hidden sheet of the shop's own costs. Excel
    saves each formula with its last value; openpyxl writes the formula alone, so that value is
    put in as Excel would (`<v>` after `<f>`) unless `saved_by_excel` is false."""
    import openpyxl

    book = openpyxl.Workbook()
    prices = book.active
    prices.title = "Prices"
    prices.append(["Service", "HP", "Price", "Time"])
    prices.append(["Chemical wash", "1.0 – 1.5", 150, "2 hours"])
    prices.append(["General service", "1.0 – 2.5", 80, "1 hour"])
    prices.append(["Gas top-up", "any", "=C3+10", "30 minutes"])  # shown as RM90.00
    for row in range(2, 5):
        prices.cell(row, 3).number_format = '"RM"#,##0.00'
    faq = book.create_sheet("FAQ")
    faq.append(["Question", "Answer"])
    faq.append(["Do you service on Sunday?", "Yes, 10am to 4pm, with a RM20 surcharge."])
    costs = book.create_sheet("Costs")
    costs.append(["Our cost for a chemical wash", 40])
    costs.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    if not saved_by_excel:
        return out.getvalue()
    rewritten = io.BytesIO()
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(rewritten, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<f>C3+10</f><v></v>", b"<f>C3+10</f><v>90</v>")
            target.writestr(item, data)
    return rewritten.getvalue()


def price_list_ods() -> bytes:
    """The same in LibreOffice's format: cells hold the text shown and the value."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableProperties
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    hidden = Style(name="hiddensheet", family="table")
    hidden.addElement(TableProperties(display="false"))
    document.automaticstyles.addElement(hidden)

    def sheet(name: str, rows: list[list[str]], style: str | None = None) -> None:
        table = Table(name=name, stylename=style) if style else Table(name=name)
        for cells in rows:
            row = TableRow()
            for text in cells:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=text))
                row.addElement(cell)
            row.addElement(TableCell(numbercolumnsrepeated=1000))  # LibreOffice's empty tail
            table.addElement(row)
        document.spreadsheet.addElement(table)

    sheet(
        "Harga",
        [["Servis", "Harga"], ["Cuci kimia", "RM150.00"], ["Servis am", "RM80.00"]],
    )
    sheet("Kos", [["Kos cuci kimia", "RM40"]], style="hiddensheet")
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def test_each_visible_sheet_is_read_row_by_row_under_its_header() -> None:
    loaded = load_bytes("xlsx", price_list_xlsx(), max_pages=5000)
    chunks = split_blocks(loaded.blocks)
    texts = [c.text for c in chunks]
    assert "Chemical wash · HP: 1.0 – 1.5 · Price: RM150.00 · Time: 2 hours" in " ".join(texts)
    assert any("Gas top-up" in t and "RM90.00" in t for t in texts)  # the formula's value
    assert any(c.is_faq and c.text.startswith("Do you service on Sunday?") for c in chunks)
    assert {c.section for c in chunks} >= {"Prices", "FAQ"}
    assert "Our cost" not in " ".join(texts)
    assert loaded.notes == ["sheet 'Costs' is hidden: skipped"]


def test_a_formula_with_no_saved_value_is_said_not_guessed() -> None:
    loaded = load_bytes("xlsx", price_list_xlsx(saved_by_excel=False), max_pages=5000)
    gas = next(b for b in loaded.blocks if b.kind is BlockKind.TABLE).text.splitlines()[3]
    assert gas == "Gas top-up | any |  | 30 minutes"  # empty, not "=C3+10"
    assert any(n.startswith("1 formula cells have no saved value") for n in loaded.notes)


def test_an_ods_sheet_reads_as_libreoffice_shows_it_and_its_hidden_sheet_is_skipped() -> None:
    loaded = load_bytes("ods", price_list_ods(), max_pages=5000)
    texts = [c.text for c in split_blocks(loaded.blocks)]
    assert "Cuci kimia · Harga: RM150.00" in texts
    assert "Kos cuci kimia" not in " ".join(texts)
    assert loaded.notes == ["sheet 'Kos' is hidden: skipped"]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("prices.xlsx", b"Service,Price\nWash,RM150\n", "is not an .xlsx workbook"),
        ("prices.xlsx", b"PK\x03\x04" + b"\0" * 64, "is not an .xlsx workbook"),
        ("prices.ods", b"PK\x03\x04broken", "is not an .ods spreadsheet"),
        ("prices.xls", b"\xd0\xcf\x11\xe0", "old Excel .xls files are not read; save it as .xlsx"),
    ],
)
def test_a_broken_or_old_spreadsheet_is_refused_with_its_reason(
    name: str, data: bytes, reason: str
) -> None:
    with pytest.raises(RejectedFile, match=reason):
        load_bytes(kind_of(Path(name)), data, max_pages=5000)


def test_a_zip_that_is_no_workbook_is_refused_in_one_line() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(RejectedFile, match=r"^the workbook cannot be read: it is damaged"):
        load_bytes("xlsx", out.getvalue(), max_pages=5000)


def test_a_spreadsheet_too_big_to_be_a_price_list_is_refused_whole() -> None:
    import openpyxl

    from knowledge.loaders.spreadsheet import MAX_CELLS

    book = openpyxl.Workbook()
    for n in range(MAX_CELLS // 4 + 1):
        book.active.append([f"item {n}", n, n, n])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(RejectedFile, match="more than 200,000 filled cells"):
        load_bytes("xlsx", out.getvalue(), max_pages=5000)


@pytest.mark.slow
def test_staff_ingest_a_workbook_and_a_customer_gets_its_price(run_cli, tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "aircon-prices.xlsx").write_bytes(price_list_xlsx())
    (documents / "harga.ods").write_bytes(price_list_ods())
    data = tmp_path / "data"
    result = run_cli("ingest", "--bot", "aircon", str(documents), data_dir=data)
    assert result.code == 0, result.err
    assert "ingested: 2" in result.out
    assert "note: " in result.out and "sheet 'Costs' is hidden: skipped" in result.out
    for question, fact in (
        ("How much is a gas top-up?", "RM90.00"),
        ("How much is a chemical wash?", "RM150.00"),
        ("Berapa harga cuci kimia?", "RM150.00"),
    ):
        asked = run_cli(
            "ask", "--bot", "aircon", "--json", question, data_dir=data, env=EXTRACT
        )  # fmt: skip
        assert asked.code == 0, asked.err
        answer = json.loads(asked.out)
        assert answer["answered"] and fact in answer["answer"], (question, answer["answer"])
    secret = run_cli(
        "ask", "--bot", "aircon", "--json", "What is your cost for a chemical wash?",
        data_dir=data, env=EXTRACT,
    )  # fmt: skip
    assert "RM40" not in json.loads(secret.out)["answer"]
