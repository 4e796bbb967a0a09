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
_ROWS_PER_BLOCK = 8  # a short table stays whole; a long one is cut into groups of rows


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
    except csv.Error as exc:
        raise RejectedFile(f"the CSV cannot be read ({exc})") from exc
    rows = [row for row in rows if any(row)]
    if not rows:
        raise RejectedFile("no text found in the CSV")
    header = rows[0]
    q_col = next((i for i, h in enumerate(header) if _QUESTION.match(h)), None)
    a_col = next((i for i, h in enumerate(header) if _ANSWER.match(h)), None)
    if q_col is not None and a_col is not None:
        return LoadedDocument(blocks=list(_faq_blocks(rows[1:], q_col, a_col)))
    return LoadedDocument(blocks=list(_table_blocks(rows)))


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


def _looks_like_header(row: list[str], next_row: list[str] | None) -> bool:
    """A header row is text where the data below has numbers, or simply all non-empty labels."""
    if next_row is None:
        return False

    def numeric(cell: str) -> bool:
        return bool(re.fullmatch(r"[-+$€£RM]*\s*[\d.,%]+", cell))

    return all(row) and not any(numeric(c) for c in row) and len(set(row)) == len(row)


def _table_blocks(rows: list[list[str]]) -> list[Block]:
    header = rows[0] if _looks_like_header(rows[0], rows[1] if len(rows) > 1 else None) else None
    body = rows[1:] if header else rows
    blocks = []
    for start in range(0, len(body), _ROWS_PER_BLOCK):
        group = body[start : start + _ROWS_PER_BLOCK]
        lines = [" | ".join(header)] if header else []
        lines += [" | ".join(row) for row in group]
        blocks.append(Block(BlockKind.TABLE, "\n".join(lines)))
    return blocks
