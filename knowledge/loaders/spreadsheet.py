"""Spreadsheets: .xlsx (openpyxl) and .ods (odfpy). Each visible sheet is read like a CSV: an
FAQ's question and answer pairs, or a table split row by row under its header ("Chemical wash ·
HP: 1.0 – 1.5 · Price: RM150"), under the sheet's name when there are several. A formula is read
as the value the spreadsheet program saved with it; a hidden sheet is skipped and said so."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from knowledge.documents import Block, BlockKind, LoadedDocument
from knowledge.errors import RejectedFile
from knowledge.loaders.csvfaq import blocks_of_rows

# More filled cells than this is a database export, not a business's price list: refused whole
# rather than read in part (and it bounds the parse's time and memory, as pages do for a PDF).
MAX_CELLS = 200_000
_DEFAULT_NAME = re.compile(r"^(sheet|feuil|hoja|tabelle|helaian|工作表)\s*\d*$", re.IGNORECASE)
# A number format's literal text around the number: "RM"#,##0.00 or [$RM-43E]#,##0.
_QUOTED = re.compile(r'"([^"]*)"|\[\$([^\]-]*)[^\]]*\]')


def _cell_text(text: str) -> str:
    # A cell is one table cell in the text the splitter reads: no line breaks, no " | ".
    return " ".join(text.replace(" | ", " / ").split())


def _number(value: float, number_format: str) -> str:
    """A number as the sheet shows it, near enough: its currency, decimals, grouping, percent."""
    fmt = (number_format or "General").split(";")[0]  # (the section for positive numbers)
    if "%" in fmt:
        return f"{value * 100:g}%"
    plain = _QUOTED.sub("", fmt)
    group = "," if "," in plain else ""
    places = re.match(r"[0#]*", plain.split(".", 1)[1]) if "." in plain else None
    if places is not None:
        shown = f"{value:{group}.{len(places.group(0))}f}"
    elif value.is_integer():
        shown = f"{int(value):{group}}"
    else:
        shown = f"{value:g}"
    digit = re.search(r"[0#]", fmt)
    cut = digit.start() if digit else len(fmt)
    prefix = "".join(a or b for a, b in _QUOTED.findall(fmt[:cut]))
    suffix = "".join(a or b for a, b in _QUOTED.findall(fmt[cut:]))
    return f"{prefix}{shown}{suffix}"


def _shown(value: Any, number_format: str = "General") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        at_midnight = value.time() == dt.time()
        return value.date().isoformat() if at_midnight else value.isoformat(" ", "minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, int | float):
        return _number(float(value), number_format)
    return _cell_text(str(value))


def _table(rows: Iterable[list[str]]) -> list[list[str]]:
    """Rows without empty ones and without the empty columns on their right."""
    kept = [row for row in rows if any(row)]
    width = max((max(i for i, c in enumerate(row) if c) + 1 for row in kept), default=0)
    return [row[:width] for row in kept]


def _document(sheets: list[tuple[str, list[list[str]]]], notes: list[str]) -> LoadedDocument:
    filled = [(name, rows) for name, rows in sheets if rows]
    blocks: list[Block] = []
    named = len(filled) > 1 or any(not _DEFAULT_NAME.match(name) for name, _ in filled)
    for name, rows in filled:
        if named:
            blocks.append(Block(BlockKind.HEADING, name, level=1))
        try:
            blocks += blocks_of_rows(rows)
        except RejectedFile as exc:
            notes.append(f"sheet {name!r}: {exc}")
    for name, rows in sheets:
        if not rows:
            notes.append(f"sheet {name!r} is empty")
    if not any(b.kind is not BlockKind.HEADING for b in blocks):
        why = f" ({'; '.join(notes)})" if notes else ""
        raise RejectedFile(f"no text found in the spreadsheet{why}")
    return LoadedDocument(blocks=blocks, notes=notes)


def _count(cells: int) -> None:
    if cells > MAX_CELLS:
        raise RejectedFile(f"the spreadsheet has more than {MAX_CELLS:,} filled cells")


def load_xlsx(data: bytes) -> LoadedDocument:
    try:
        import openpyxl
    except ImportError as exc:  # a dependency; said plainly if an install lacks it
        raise RejectedFile("reading .xlsx needs openpyxl (pip install openpyxl)") from exc
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise RejectedFile("the file is not an .xlsx workbook (it is not a zip archive)")
    try:
        # Two reads: the values the program saved, and the formulas (to say which had none).
        values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise RejectedFile(
            "the workbook cannot be read: it is damaged or not an .xlsx workbook;"
            " open it and save it again"
        ) from exc
    notes: list[str] = []
    sheets: list[tuple[str, list[list[str]]]] = []
    cells = unsaved = 0
    try:
        for sheet in values.worksheets:
            if sheet.sheet_state != "visible":
                notes.append(f"sheet {sheet.title!r} is hidden: skipped")
                continue
            rows = []
            written = _padded(formulas[sheet.title].iter_rows())
            for row, as_written in zip(sheet.iter_rows(), written, strict=False):
                shown = [_shown(c.value, getattr(c, "number_format", "General")) for c in row]
                unsaved += sum(
                    1
                    for c, w in zip(row, as_written, strict=False)
                    if c.value is None and str(getattr(w, "value", "")).startswith("=")
                )
                cells += sum(1 for x in shown if x)
                _count(cells)
                rows.append(shown)
            sheets.append((sheet.title, _table(rows)))
    finally:
        values.close()
        formulas.close()
    if unsaved:
        notes.append(
            f"{unsaved} formula cells have no saved value (the file was not last saved by a"
            " spreadsheet program) and are read as empty: open and save it in Excel or LibreOffice"
        )
    return _document(sheets, notes)


def _padded(rows: Iterable[Any]) -> Iterator[Any]:
    yield from rows
    while True:  # (a sheet whose formula read is shorter: nothing to compare)
        yield ()


def load_ods(data: bytes) -> LoadedDocument:
    try:
        from odf import opendocument, style, table, teletype
    except ImportError as exc:
        raise RejectedFile("reading .ods needs odfpy (pip install odfpy)") from exc
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise RejectedFile("the file is not an .ods spreadsheet (it is not a zip archive)")
    try:
        document = opendocument.load(io.BytesIO(data))
    except Exception as exc:  # odfpy raises many kinds for a broken file
        raise RejectedFile(
            "the spreadsheet cannot be read: it is damaged or not an .ods spreadsheet;"
            " open it and save it again"
        ) from exc
    # A hidden sheet is a table whose style's table properties say display="false".
    hidden_styles = {
        s.getAttribute("name")
        for s in document.automaticstyles.getElementsByType(style.Style)
        if any(
            p.getAttribute("display") == "false" for p in s.getElementsByType(style.TableProperties)
        )
    }
    notes: list[str] = []
    sheets: list[tuple[str, list[list[str]]]] = []
    cells = 0
    for sheet in document.spreadsheet.getElementsByType(table.Table):
        name = sheet.getAttribute("name")
        if sheet.getAttribute("stylename") in hidden_styles:
            notes.append(f"sheet {name!r} is hidden: skipped")
            continue
        rows: list[list[str]] = []
        for row in sheet.getElementsByType(table.TableRow):
            shown: list[str] = []
            for cell in row.childNodes:
                if cell.qname[1] not in ("table-cell", "covered-table-cell"):
                    continue
                text = _cell_text(teletype.extractText(cell))
                repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
                shown += [text] * (repeat if text else min(repeat, 1))
            repeat = int(row.getAttribute("numberrowsrepeated") or 1) if any(shown) else 1
            cells += sum(1 for x in shown if x) * repeat
            _count(cells)
            rows += [shown] * repeat
        sheets.append((name, _table(rows)))
    return _document(sheets, notes)
