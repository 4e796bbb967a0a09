"""Paragraphs out of plain text as extractors give it (hard-wrapped lines, hyphenation)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator

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


def looks_garbled(text: str) -> bool:
    """True for text extracted through a font with no usable character map.

    Such text comes out as letters from many unrelated scripts (Greek, Arabic, Cyrillic, IPA
    in one Japanese sentence). Real documents, even trilingual ones or Japanese with its three
    scripts, draw nearly all their letters from at most three scripts.
    """
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 100:
        return False
    scripts = Counter(unicodedata.name(c, "UNKNOWN").split()[0] for c in letters)
    top_three = sum(count for _, count in scripts.most_common(3))
    return top_three / len(letters) < 0.9
