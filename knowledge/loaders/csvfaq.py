"""CSV: an FAQ (question and answer columns) becomes one entry per pair; other tables, rows."""

from __future__ import annotations

import csv
import io
import re

from knowledge.documents import Block, BlockKind, LoadedDocument
from knowledge.errors import RejectedFile
from knowledge.loaders.encoding import decode_text

# Column names that mark an FAQ, in the languages our businesses write in.
_QUESTION = re.compile(r"^(question|questions|q|soalan|pertanyaan|问题|問題|提问|faq)$", re.I)
_ANSWER = re.compile(r"^(answer|answers|a|jawapan|balasan|答案|回答|答复|reply|response)$", re.I)


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def load_csv(data: bytes) -> LoadedDocument:
    text = decode_text(data)
    if not text.strip():
        raise RejectedFile("the file is empty")
    csv.field_size_limit(10 * 1024 * 1024)
    try:
        rows = [
            [cell.strip() for cell in row]
            for row in csv.reader(io.StringIO(text), _dialect(text[:20_000]))
        ]
    except csv.Error as exc:  # its messages are the csv module's: said here in plain words
        said = str(exc)
        if "NUL" in said:
            why = "it holds binary data, so it is probably not a CSV file"
        elif "field limit" in said:
            why = "one of its cells is longer than 10 MB"
        else:
            why = "its quotation marks do not pair up"
        raise RejectedFile(f"the CSV cannot be read: {why}") from exc
    rows = [row for row in rows if any(row)]
    if not rows:
        raise RejectedFile("no text found in the CSV")
    return LoadedDocument(blocks=blocks_of_rows(rows))


def blocks_of_rows(rows: list[list[str]]) -> list[Block]:
    """A table's rows (the first its header, none empty): an FAQ's entries when the header
    names question and answer columns, else the table, for the splitter to split row by row."""
    header = rows[0]
    q_col = next((i for i, h in enumerate(header) if _QUESTION.match(h)), None)
    a_col = next((i for i, h in enumerate(header) if _ANSWER.match(h)), None)
    if q_col is not None and a_col is not None:
        return _faq_blocks(rows[1:], q_col, a_col)
    return _table_blocks(rows)


def _faq_blocks(rows: list[list[str]], q_col: int, a_col: int) -> list[Block]:
    blocks = []
    for row in rows:
        question = row[q_col] if q_col < len(row) else ""
        answer = row[a_col] if a_col < len(row) else ""
        if question and answer:
            blocks.append(Block(BlockKind.FAQ, f"{question}\n{answer}"))
    if not blocks:
        raise RejectedFile("the FAQ has question and answer columns but no filled pair")
    return blocks


def _table_blocks(rows: list[list[str]]) -> list[Block]:
    # One table; the splitter tells a header row and splits it row by row.
    return [Block(BlockKind.TABLE, "\n".join(" | ".join(row) for row in rows))]
