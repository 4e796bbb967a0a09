"""Cut a document's blocks into passages that keep their structure.

Rules, in order of precedence:
- a heading closes the passage before it and becomes part of the section path of what follows;
- an FAQ pair is one passage, never merged with another and never cut (unless it is huge);
- a table, and a list laid out as rows, is split row by row: each row is a passage of its own,
  with its column headers and, in its section, the document's title ("Price list 2026 ·
  Chemical wash · HP: 1.0 – 1.5 · Price: RM150"), so a question about one row finds that row
  and a figure stays with what it is the figure of (a whole price list as one passage was found
  for every price question and answered none);
- paragraphs are packed up to the target size; an oversized one is cut at sentence ends.

Sizes are in approximate model tokens, because the embedding model reads at most 256 of them:
a passage longer than that is invisible to dense search past its start.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from knowledge.documents import Block, BlockKind, Chunk
from knowledge.scripts import CJK_CHAR, NON_CJK_WORD

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|(?<=[。！？；])")


def estimate_tokens(text: str) -> int:
    """WordPiece tokens, roughly: one per CJK character, about 1.3 per other word."""
    return len(CJK_CHAR.findall(text)) + (len(NON_CJK_WORD.findall(text)) * 13 + 9) // 10


@dataclass(frozen=True, slots=True)
class SplitSettings:
    target_tokens: int = 180
    max_tokens: int = 240


class _Section:
    """The heading path in force: deeper headings nest, a same-level heading replaces."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> None:
        level = max(level, 1)
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, title))

    @property
    def path(self) -> str:
        return " > ".join(title for _, title in self._stack)


def _pieces(text: str, max_tokens: int) -> Iterator[str]:
    """Cut `text` at sentence ends (or, failing that, words) into pieces under `max_tokens`."""
    current: list[str] = []
    size = 0
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        tokens = estimate_tokens(sentence)
        if tokens > max_tokens:
            if current:
                yield " ".join(current)
                current, size = [], 0
            yield from _hard_cut(sentence, max_tokens)
            continue
        if size + tokens > max_tokens and current:
            yield " ".join(current)
            current, size = [], 0
        current.append(sentence)
        size += tokens
    if current:
        yield " ".join(current)


def _hard_cut(text: str, max_tokens: int) -> Iterator[str]:
    if CJK_CHAR.search(text) and " " not in text.strip():
        step = max_tokens
        for start in range(0, len(text), step):
            yield text[start : start + step]
        return
    words = text.split()
    step = max(1, max_tokens * 10 // 13)
    for start in range(0, len(words), step):
        yield " ".join(words[start : start + step])


def split_blocks(
    blocks: list[Block], settings: SplitSettings | None = None, title: str | None = None
) -> list[Chunk]:
    """`title` is the document's: rows carry it in their section (a row alone says too little
    of where it comes from)."""
    cfg = settings or SplitSettings()
    section = _Section()
    chunks: list[Chunk] = []
    parts: list[str] = []
    parts_page: int | None = None
    parts_size = 0

    def emit(text: str, page: int | None, is_faq: bool = False, row: bool = False) -> None:
        path = _with_title(title, section.path) if row else section.path
        chunks.append(Chunk(text=text, page=page, section=path, ordinal=len(chunks), is_faq=is_faq))

    def flush() -> None:
        nonlocal parts, parts_size, parts_page
        if parts:
            emit("\n".join(parts), parts_page)
        parts, parts_size, parts_page = [], 0, None

    for block in blocks:
        if block.kind is BlockKind.HEADING:
            flush()
            section.enter(block.level, block.text)
            continue
        # The section path is prepended when indexing, so it counts against the budget.
        budget = cfg.max_tokens - estimate_tokens(section.path)
        size = estimate_tokens(block.text)
        if block.kind is BlockKind.FAQ:
            flush()
            if size <= budget * 2:  # a pair is worth more whole than within the model's window
                emit(block.text, block.page, is_faq=True)
            else:
                question, _, answer = block.text.partition("\n")
                for piece in _pieces(answer, max(budget - estimate_tokens(question), 32)):
                    emit(f"{question}\n{piece}", block.page, is_faq=True)
            continue
        if block.kind in (BlockKind.TABLE, BlockKind.ROW):
            flush()
            rows = table_rows(block.text) if block.kind is BlockKind.TABLE else [block.text]
            for row in _rows_or_runs(rows, budget):
                for piece in _pieces(row, budget) if estimate_tokens(row) > budget else [row]:
                    emit(piece, block.page, row=True)
            continue
        if size > budget:
            flush()
            for piece in _pieces(block.text, budget):
                emit(piece, block.page)
            continue
        if parts and parts_size + size > min(cfg.target_tokens, budget):
            flush()
        if not parts:
            parts_page = block.page
        parts.append(block.text)
        parts_size += size
    flush()
    return chunks


def _rows_or_runs(rows: list[str], budget: int) -> Iterator[str]:
    """Each row with two cells or more on its own; runs of one-cell rows (a layout table's
    names, a list's labels) packed together: a passage of one name alone is found by any
    question, its few words matching by chance (a 10-K's "Harry C. Hagerty" outranked a whole
    page for "My First Heading")."""
    run: list[str] = []
    size = 0
    for row in rows:
        if " · " in row:
            if run:
                yield "\n".join(run)
                run, size = [], 0
            yield row
            continue
        tokens = estimate_tokens(row)
        if run and size + tokens > budget:
            yield "\n".join(run)
            run, size = [], 0
        run.append(row)
        size += tokens
    if run:
        yield "\n".join(run)


def _with_title(title: str | None, path: str) -> str:
    if not title or title.casefold() in path.casefold():
        return path
    return f"{title} > {path}" if path else title


_FIGURE_CELL = re.compile(r"[-+$€£RM]*\s*[\d.,%]+(?:\s*[A-Za-z%]{0,4})?")
# A value no column is named by: a time ("3:00 pm - 10:00 pm"), a price ("RM150"), a date.
_VALUE = re.compile(r"\d{1,2}[:.]\d{2}\s*(?:am|pm|pagi|petang|malam)?\b|\bRM\s*\d|\d+\s*%", re.I)


def _is_value(cell: str) -> bool:
    """A cell that holds a figure or a value ("RM150", "3:00 pm - 10:00 pm"), not a label."""
    return bool(_FIGURE_CELL.fullmatch(cell) or _VALUE.search(cell))


def _is_header(cells: list[str], rows: list[list[str]]) -> bool:
    """A header row is distinct labels with no figure over rows of the same width (a CSV or
    Word table's first row, as people write them; its first cell may be empty). A two-column
    table of labels and values ("Check-in | 3:00 pm - 10:00 pm") has none: its first row is
    a row like the others."""
    labels = cells[1:]  # the first may be empty: the column of the rows' own names
    if not rows or not labels or not all(labels) or len(set(labels)) != len(labels):
        return False
    if any(_is_value(cell) for cell in cells):
        return False
    # Rows as wide, but for a few narrower ones (a sub-heading row: "RETURNING TO MALAYSIA").
    same = sum(len(row) == len(cells) for row in rows)
    return all(len(row) <= len(cells) for row in rows) and same >= len(rows) / 2


def _spanned_header(first: list[str], second: list[str], rows: list[list[str]]) -> bool:
    """Whether `second` is the lower row of a two-row header: labels, not figures, under an
    upper row that spans columns (its label repeated, as a merged cell is read: "Regular
    season" over "Weekday | Weekend") or over a row of units with gaps ("(RM)" under each car
    class, nothing under "Code")."""
    spans = len(set(first)) < len(first)
    units = any(not c for c in second) and all(len(c) <= 20 for c in second)
    return (
        (spans or units)
        and len(second) == len(first)
        and any(second)
        and not any(_is_value(c) for c in second if c)
        and len(rows) > 0
    )


def _alone(cells: list[str], width: int) -> bool:
    """A row with one filled cell in a wider table: a title above it ("PRICE LIST 2026 - RM per
    month") or a note under it ("Prices include fitting."), not a row of it."""
    return width > 2 and sum(bool(c) for c in cells) == 1


def table_rows(table: str) -> list[str]:
    """A table's rows ("a | b" lines), each as a line that reads on its own: its first cell, then
    every other cell after its column's header ("Chemical wash · HP: 1.0 – 1.5 · Price: RM150").

    Spreadsheets and web pages put more than rows in a table: a title block above the header (a
    shop's name, address and the list's title), notes under it, a header of two rows under a
    merged cell. The title and note lines stand alone; a two-row header names each column by
    both ("Regular season Weekday(Sun-Thu): 220")."""
    lines = [[cell.strip() for cell in line.split(" | ")] for line in table.split("\n")]
    lines = [cells for cells in lines if any(cells)]
    if not lines:
        return []
    width = max(len(cells) for cells in lines)
    above: list[str] = []
    while lines and _alone(lines[0], width):
        above.append(next(c for c in lines.pop(0) if c))
    below: list[str] = []
    while lines and _alone(lines[-1], width):
        below.insert(0, next(c for c in lines.pop() if c))
    if not lines:
        return [*above, *below]
    header, body = lines[0], lines[1:]
    if len(body) > 1 and _spanned_header(header, body[0], body[1:]):
        lower = body[0]
        merged = [
            h if h == low or not low else f"{h} {low}".strip()
            for h, low in zip(header, lower, strict=True)
        ]
        if _is_header(merged, body[1:]):
            header, body = merged, body[1:]
    if not _is_header(header, body):
        rows = [" · ".join(cell for cell in cells if cell) for cells in lines]
        return [*above, *rows, *below]
    # Two lists side by side ("Accepted | NOT accepted"), not names and their values ("Model |
    # Price"): each cell is told by its column.
    lists = len(header) == 2 and not any(_is_value(c) for row in body for c in row[1:2])
    first = f"{header[0]}: " if lists and header[0] else ""
    out = []
    for cells in body:
        if _alone(cells, width):  # a sub-heading or a note within the table
            out.append(next(c for c in cells if c))
            continue
        parts = [f"{first}{cells[0]}"] if cells[0] else []
        # (A narrower row, a sub-heading, has fewer cells than the header: zip stops there.)
        parts += [
            f"{label}: {cell}" for label, cell in zip(header[1:], cells[1:], strict=False) if cell
        ]
        out.append(" · ".join(parts))
    return [*above, *out, *below]
