"""The customer's language, so that the bot replies in it and picks its canned messages."""

from __future__ import annotations

import re

from knowledge.language import QueryLanguage, query_language

_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")

# What the prompt calls each language, in words a small model understands.
LANGUAGE_NAMES = {
    "en": "English",
    "ms": "Malay (Bahasa Melayu)",
    "zh": "Chinese (简体中文)",
    "ja": "Japanese",
    "ko": "Korean",
}


def detect_language(text: str, group: QueryLanguage | None = None) -> str:
    """en, ms, zh, ja or ko. Malay is told from English by its function words (apa, boleh...).
    `group` is the text's script group where the caller has read it already (a `Query`'s)."""
    group = group or query_language(text)
    if group is QueryLanguage.CJK:
        if _KANA.search(text):
            return "ja"
        if _HANGUL.search(text):
            return "ko"
        return "zh"
    return "ms" if group is QueryLanguage.OTHER else "en"


def language_group(language: str) -> QueryLanguage:
    """The group (English, CJK, other) that passages of this language are stored under."""
    if language in ("zh", "ja", "ko"):
        return QueryLanguage.CJK
    return QueryLanguage.ENGLISH if language == "en" else QueryLanguage.OTHER
