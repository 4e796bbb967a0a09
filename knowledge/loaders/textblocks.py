"""Paragraphs out of plain text as extractors give it (hard-wrapped lines, hyphenation)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator

from knowledge.documents import Block, BlockKind
from knowledge.scripts import CJK_CHAR

_BLANK_LINES = re.compile(r"\n\s*\n")


def join_lines(lines: list[str]) -> str:
    """Unwrap hard-wrapped lines: rejoin hyphenated words, no spaces between CJK lines."""
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith("-") and line[:1].islower():
            out = out[:-1] + line
        elif CJK_CHAR.match(out[-1]) and CJK_CHAR.match(line[0]):
            out += line
        else:
            out += " " + line
    return out


def paragraphs_of(text: str) -> Iterator[str]:
    """Paragraphs separated by blank lines; within one, wrapped lines are joined."""
    for part in _BLANK_LINES.split(text):
        paragraph = join_lines(part.splitlines())
        if paragraph:
            yield paragraph


# A line of a list laid out as rows: a label set apart from a value holding a figure ("iPhone
# battery: RM150", "Gas top-up ..... RM120", "Ceiling cassette  RM250"), or a line ending in a
# price ("Phone case from RM20"). Wrapped prose has neither; nor has mathematics, which a
# thesis's PDF is full of ("Ux0 := ⋂m(x) i=1"), kept out by its symbols.
_ROW_SHAPE = re.compile(
    r"[^\W\d_]{3,}[^:]*?(?::|\.{3,}|\t| {2,}|\s[-–—]\s)\s*\S.*\d"
    r"|(?:RM|MYR|USD|SGD|\$|€|£)\s?\d[\d,.]*(?:\s*(?:per|a|each|/)\s*\w+)?\.?\s*$"
)
_PLAIN = re.compile(r"[\w\s.,:;()/%$€£·&'’+\-–—]")
_LABEL_MAX = 60  # a list's heading ("Battery replacement / Tukar bateri") is short
_ROW_MAX = 140
_LABEL_LEVEL = 6  # under any heading the document's outline gives


_LOWER_WORD = re.compile(r"[a-z]+\b")  # "free for orders", not "iPhone" or "eWallet"


def _goes_on(line: str) -> bool:
    """Whether `line` starts lower case, as the rest of a wrapped sentence does."""
    return _LOWER_WORD.match(line) is not None


def _row_like(line: str, next_line: str) -> bool:
    return (
        len(line) <= _ROW_MAX
        and any(ch.isdigit() for ch in line)
        and not _goes_on(line)
        and not line.endswith(("-", ","))
        and not _goes_on(next_line)
        and _ROW_SHAPE.search(line) is not None
        and "=" not in line
        and sum(1 for ch in line if _PLAIN.match(ch)) >= 0.95 * len(line)
    )


def _label_like(line: str) -> bool:
    return (
        len(line) <= _LABEL_MAX
        and not any(ch.isdigit() for ch in line)
        and not _goes_on(line)
        and not line.endswith((".", ",", ";", "。", "，"))
    )


def text_blocks(text: str, page: int | None = None) -> Iterator[Block]:
    """Paragraphs of extracted text, with lists laid out as rows kept row by row: two or more
    row-like lines in a row are each a ROW block, and the short line heading them a heading (a
    price list in a PDF comes out as one paragraph of lines otherwise)."""
    for part in _BLANK_LINES.split(text):
        lines = [line.strip() for line in part.splitlines() if line.strip()]
        rows = [
            _row_like(line, lines[i + 1] if i + 1 < len(lines) else "")
            for i, line in enumerate(lines)
        ]
        in_run = [
            rows[i] and ((i > 0 and rows[i - 1]) or (i + 1 < len(rows) and rows[i + 1]))
            for i in range(len(lines))
        ]
        pending: list[str] = []
        for i, line in enumerate(lines):
            if in_run[i]:
                if pending:
                    yield Block(BlockKind.PARAGRAPH, join_lines(pending), page)
                    pending = []
                yield Block(BlockKind.ROW, line, page)
            elif _label_like(line) and i + 1 < len(lines) and in_run[i + 1]:
                if pending:
                    yield Block(BlockKind.PARAGRAPH, join_lines(pending), page)
                    pending = []
                yield Block(BlockKind.HEADING, line, page, _LABEL_LEVEL)
            else:
                pending.append(line)
        if pending and (paragraph := join_lines(pending)):
            yield Block(BlockKind.PARAGRAPH, paragraph, page)


def looks_garbled(text: str, at_least: int = 100) -> bool:
    """True for text extracted through a font with no usable character map.

    Such text comes out as letters from many unrelated scripts (Greek, Arabic, Cyrillic, IPA
    in one Japanese sentence). Real documents, even trilingual ones or Japanese with its three
    scripts, draw nearly all their letters from at most three scripts.
    """
    letters = [c for c in text if c.isalpha()]
    if len(letters) < at_least:  # too few letters to tell
        return False
    scripts = Counter(unicodedata.name(c, "UNKNOWN").split()[0] for c in letters)
    top_three = sum(count for _, count in scripts.most_common(3))
    return top_three / len(letters) < 0.9
