"""Tables in PDFs as rows and columns, by pdfplumber (pypdf's text runs a table's columns
together: "SV-01 Minor service ... 98 125 168 SV-02 ...", no price tied to its car class).

pdfplumber finds a table by its ruling lines and reads its cells; the rest of the page is read
as text around it, in order from top to bottom. Only pages whose content draws enough lines or
boxes to be a ruled table are given to it (reading a page's characters with pdfminer costs
about ten times pypdf's text), so a 600-page manual of prose pays nothing.

A grid whose cells each list several entries (a timetable: days down the side, times across the
top, classes in the cells) is read cell by cell, each entry one row: "Thursday · 8:00 - 10:00
pm · F4 Physics (R1)", so the entry keeps its day and its time.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from typing import Any

from knowledge.documents import Block, BlockKind
from knowledge.loaders.textblocks import text_blocks

log = logging.getLogger(__name__)

# Path operators that draw a table's rules and boxes: "x y w h re", "x y l".
_DRAWING = re.compile(rb"(?:\sre\s)|(?:\sl\s)")
_MIN_DRAWINGS = 8
_MAX_CONTENT = 4_000_000  # bytes of one page's content stream looked through, at most
# Pages of one PDF read for tables, at most: a manual that rules every page (a frame, a header
# rule) would otherwise pay pdfminer's reading on all of its hundreds of pages. A price list or
# timetable is a few pages; past this, pypdf's text stands.
MAX_TABLE_PAGES = 24


def may_hold_table(page: Any) -> bool:
    """Whether a pypdf page draws enough lines or rectangles to be a ruled table, both across
    and down (see `_draws_a_grid`)."""
    try:
        contents = page.get_contents()
        data = contents.get_data()[:_MAX_CONTENT] if contents is not None else b""
    except Exception:  # an unreadable content stream: no table read from it
        return False
    if not any(n >= _MIN_DRAWINGS for n, _ in enumerate(_DRAWING.finditer(data), start=1)):
        return False
    try:
        return _draws_a_grid(contents.operations)
    except Exception:  # a stream pypdf cannot parse here: let pdfplumber judge, as before
        return True


# Operators that paint the path built so far; "n" ends it unpainted (a clipping path).
_PAINTS = {b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}
_CURVES = {b"c", b"v", b"y"}
_STRAIGHT = 0.5  # points: a segment this close to level or plumb is a rule


def _draws_a_grid(operations: list[tuple[list[Any], bytes]]) -> bool:
    """Whether the page paints at least two horizontal and two vertical straight edges, which
    pdfplumber's line strategy needs for even one cell (it makes edges of painted lines and of
    rectangles' sides, never of clipping paths). The manual in ../shared/corpus underlines its
    contents pages' entries: 380 level rules a page and no plumb one, so no cell, yet pdfminer
    read all of each page's characters to find that out (6.5 s of CPU for 16 pages).

    Whatever this does not model makes the page a candidate, as every page that drew enough
    was before: curves (pdfplumber makes edges of them too) and a rotated or skewed
    coordinate system (which turns level into plumb)."""
    level = plumb = 0
    path: list[tuple[float, float, float, float]] = []  # segments of the path being built
    start = point = (0.0, 0.0)

    def segment(to: tuple[float, float]) -> None:
        path.append((*point, *to))

    for operands, operator in operations:
        if operator == b"cm" and (float(operands[1]) or float(operands[2])):
            return True
        if operator in _CURVES:
            return True
        if operator == b"m":
            start = point = (float(operands[0]), float(operands[1]))
        elif operator == b"l":
            to = (float(operands[0]), float(operands[1]))
            segment(to)
            point = to
        elif operator == b"h":
            segment(start)
            point = start
        elif operator == b"re":
            x, y, w, h = (float(v) for v in operands[:4])
            corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
            for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
                path.append((*a, *b))
            start = point = (x, y)
        elif operator in _PAINTS:
            for x0, y0, x1, y1 in path:
                if abs(y0 - y1) <= _STRAIGHT and abs(x0 - x1) > _STRAIGHT:
                    level += 1
                elif abs(x0 - x1) <= _STRAIGHT and abs(y0 - y1) > _STRAIGHT:
                    plumb += 1
            if level >= 2 and plumb >= 2:
                return True
            path = []
        elif operator == b"n":  # a clipping path, not drawn
            path = []
    return False


class TableReader:
    """pdfplumber over one PDF, opened at the first page that may hold a table."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._pdf: Any = None
        self.pages_read = 0

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()

    def page_blocks(
        self,
        number: int,
        drawn: Any,
        kept: Callable[[list[str]], list[str]] = lambda lines: lines,
    ) -> list[Block] | None:
        """The page's blocks with its tables as tables, or None when it has no table (or
        pdfplumber cannot read it): pypdf's text stands then. `drawn`: the page as pypdf has
        it, looked at for rules (`may_hold_table`) only while pages may still be read for
        tables, since that looks through its content anew. `kept` filters the lines of text
        around the tables (a letterhead read on an earlier page)."""
        if self.pages_read >= MAX_TABLE_PAGES or not may_hold_table(drawn):
            return None
        self.pages_read += 1
        try:
            if self._pdf is None:
                import pdfplumber

                self._pdf = pdfplumber.open(io.BytesIO(self.data))
            page = self._pdf.pages[number - 1]
            tables = [t for t in page.find_tables() if _worth_it(t.extract())]
            if not tables:
                return None
            return _blocks(page, tables, number, kept)
        except Exception as exc:  # a page pdfplumber cannot read keeps pypdf's text
            log.warning("page %d: table reading failed (%s)", number, type(exc).__name__)
            return None


def _worth_it(rows: list[list[str | None]]) -> bool:
    """A table of rows and columns: most rows fill two cells or more. (A map's street grid
    is found as a "table" of one label a row.)"""
    filled = [sum(bool((c or "").strip()) for c in row) for row in rows]
    return len(rows) >= 2 and sum(n >= 2 for n in filled) >= max(2, len(rows) * 0.6)


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def _blocks(
    page: Any, tables: list[Any], number: int, kept: Callable[[list[str]], list[str]]
) -> list[Block]:
    boxes = [t.bbox for t in tables]
    outside = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes))
    read = [(line["top"], line["text"]) for line in outside.extract_text_lines()]
    keep = set(kept([text for _, text in read]))
    lines = [(top, text) for top, text in read if text in keep]
    pieces: list[tuple[float, list[Block]]] = [
        (t.bbox[1], _table_blocks(t.extract(), number)) for t in tables
    ]
    # Text between tables stays between them: runs of lines split at each table's top.
    tops = sorted(t.bbox[1] for t in tables)
    runs: dict[int, list[str]] = {}
    for top, text in lines:
        index = sum(top > t for t in tops)
        runs.setdefault(index, []).append(text)
    for index, run in runs.items():
        at = tops[index - 1] + 0.5 if index else -1.0
        pieces.append((at, list(text_blocks("\n".join(run), number))))
    blocks: list[Block] = []
    for _, found in sorted(pieces, key=lambda p: p[0]):
        blocks += found
    return blocks


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace(" | ", " / ")


def _table_blocks(rows: list[list[str | None]], number: int) -> list[Block]:
    if _is_grid(rows):
        return _grid_rows(rows, number)
    text = "\n".join(" | ".join(_cell(c) for c in row) for row in rows if any(row))
    return [Block(BlockKind.TABLE, text, number)] if text.strip() else []


_JOINS = (",", ";", "/", "-", "&", "+", "(")


def _entries(cell: str | None) -> bool:
    """Whether a cell's lines are entries of a list ("F4 Physics (R1)" over "F5 Chemistry
    (R2)"), not one text wrapped at the cell's edge ("... the rest of the booking is" over
    "cancelled"): each line after the first begins anew and none before the last runs on."""
    lines = [line.strip() for line in (cell or "").strip().split("\n") if line.strip()]
    if len(lines) < 2:
        return False
    begins = all(line == "-" or line[0].isupper() or line[0].isdigit() for line in lines[1:])
    runs_on = any(line != "-" and line.endswith(_JOINS) for line in lines[:-1])
    return begins and not runs_on


def _is_grid(rows: list[list[str | None]]) -> bool:
    """A grid: cells (not in the first row or column) listing several entries, line by line."""
    cells = [cell for row in rows[1:] for cell in row[1:] if cell and "\n" in cell.strip()]
    return len(cells) >= 2 and all(_entries(cell) for cell in cells)


def _grid_rows(rows: list[list[str | None]], number: int) -> list[Block]:
    """Each entry of each cell as "row label · column label · entry". A row of single-line
    labels whose first cell is in capitals ("WEEKEND | 9:00 - 11:00 am | ...") names the
    columns of the rows under it."""
    out: list[Block] = []
    header = [_cell(c) for c in rows[0]]
    for row in rows[1:]:
        cells = [c or "" for c in row]
        first = _cell(cells[0])
        if first.isupper() and not any("\n" in c.strip() for c in cells):
            header = [_cell(c) for c in cells]
            continue
        for column, cell in enumerate(cells[1:], start=1):
            label = header[column] if column < len(header) else ""
            for entry in (e.strip() for e in cell.split("\n")):
                if entry and entry != "-":
                    parts = [p for p in (first, label, entry) if p]
                    out.append(Block(BlockKind.ROW, " · ".join(parts), number))
    return out
