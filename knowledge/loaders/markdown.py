"""Markdown and plain text, in any language and encoding."""

from __future__ import annotations

import re

from knowledge.documents import Block, BlockKind, LoadedDocument
from knowledge.errors import RejectedFile
from knowledge.loaders.encoding import decode_text
from knowledge.loaders.textblocks import join_lines, text_blocks

_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.S)
_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ANCHOR = re.compile(r"\s*\{#[^}]*\}\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
_REF_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FENCE = re.compile(r"^\s*(```|~~~)")


def _inline(text: str) -> str:
    text = _LINK.sub(lambda m: m.group(1) or m.group(2) or "", text)
    return _EMPHASIS.sub(r"\2", text)


def _front_title(text: str) -> str | None:
    match = _FRONT_MATTER.match(text)
    if not match:
        return None
    title = re.search(r"^title:\s*[\"']?(.*?)[\"']?\s*$", match.group(0), re.M)
    return title.group(1) if title else None


def load_markdown(data: bytes) -> LoadedDocument:
    text = decode_text(data).replace("\r\n", "\n")
    if not text.strip():
        raise RejectedFile("the file is empty")
    title = _front_title(text)
    text = _COMMENT.sub("", _FRONT_MATTER.sub("", text))
    blocks: list[Block] = []
    if title:
        blocks.append(Block(BlockKind.HEADING, title, None, 1))
    pending: list[str] = []
    table: list[str] = []
    in_fence = False

    def flush() -> None:
        if pending:
            paragraph = _inline(join_lines(pending))
            if paragraph:
                blocks.append(Block(BlockKind.PARAGRAPH, paragraph))
            pending.clear()
        if table:
            rows = [
                " | ".join(c.strip() for c in row.strip().strip("|").split("|"))
                for row in table
                if not re.fullmatch(r"[\s|:\-]+", row)
            ]
            blocks.append(Block(BlockKind.TABLE, _inline("\n".join(rows))))
            table.clear()

    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            pending.append(line)
            continue
        heading = _ATX.match(line)
        if heading:
            flush()
            title_text = _inline(_ANCHOR.sub("", heading.group(2)))
            if title_text:
                blocks.append(Block(BlockKind.HEADING, title_text, None, len(heading.group(1))))
        elif line.lstrip().startswith("|"):
            if pending:
                flush()
            table.append(line)
        elif not line.strip() or _REF_DEF.match(line):
            flush()
        elif re.match(r"^\s*([-*+]|\d+[.)])\s+", line) and pending:
            flush()  # each list item is its own paragraph
            pending.append(re.sub(r"^\s*([-*+]|\d+[.)])\s+", "", line))
        else:
            if table:
                flush()
            pending.append(re.sub(r"^\s*([-*+>]|\d+[.)])\s+", "", line))
    flush()
    if not any(b.kind is not BlockKind.HEADING for b in blocks):
        raise RejectedFile("no text found in the file")
    return LoadedDocument(blocks=blocks, title=title)


def load_plain_text(data: bytes) -> LoadedDocument:
    text = decode_text(data).replace("\r\n", "\n")
    blocks = list(text_blocks(text))
    if not blocks:
        raise RejectedFile("the file is empty" if not text.strip() else "no text found in the file")
    return LoadedDocument(blocks=blocks)
