"""Cut a document's blocks into passages that keep their structure.

Rules, in order of precedence:
- a heading closes the passage before it and becomes part of the section path of what follows;
- an FAQ pair is one passage, never merged with another and never cut (unless it is huge);
- a table is one passage when it fits, else groups of rows each led by the header row;
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


def split_blocks(blocks: list[Block], settings: SplitSettings | None = None) -> list[Chunk]:
    cfg = settings or SplitSettings()
    section = _Section()
    chunks: list[Chunk] = []
    parts: list[str] = []
    parts_page: int | None = None
    parts_size = 0

    def emit(text: str, page: int | None, is_faq: bool = False) -> None:
        chunks.append(
            Chunk(text=text, page=page, section=section.path, ordinal=len(chunks), is_faq=is_faq)
        )

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
        if block.kind is BlockKind.TABLE:
            flush()
            if size <= budget:
                emit(block.text, block.page)
            else:
                for rows in _row_groups(block.text, budget):
                    emit(rows, block.page)
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


def _row_groups(table: str, budget: int) -> Iterator[str]:
    """Groups of rows under the budget, each led by the header row so it reads on its own."""
    header, *rows = table.split("\n")
    header_size = estimate_tokens(header)
    group: list[str] = []
    size = header_size
    for row in rows:
        row_size = estimate_tokens(row)
        if group and size + row_size > budget:
            yield "\n".join([header, *group])
            group, size = [], header_size
        group.append(row)
        size += row_size
    if group or not rows:
        yield "\n".join([header, *group])
