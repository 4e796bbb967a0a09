"""Writing systems that do not separate words with spaces: Chinese, Japanese, Korean."""

from __future__ import annotations

import re

# Hiragana and katakana, CJK ideographs (with extension A and compatibility), Hangul syllables.
CJK_RANGES = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
CJK_CHAR = re.compile(f"[{CJK_RANGES}]")
CJK_RUN = re.compile(f"[{CJK_RANGES}]+")
NON_CJK_WORD = re.compile(rf"[^\s{CJK_RANGES}]+")
