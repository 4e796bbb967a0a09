"""The keyword index's final tokens, as SQLite's FTS5 makes them, for indexes outside SQLite.

knowledge.keywords gives each passage's terms (Chinese bigrams, Malay roots, stopwords out);
FTS5's `porter unicode61` tokenizer then splits them at punctuation, folds case and diacritics
and stems English. An index in PostgreSQL holds the same tokens by asking SQLite's own tokenizer
(in memory, through the fts5vocab table) rather than a second stemmer that would differ from it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter

TOKENIZER = "porter unicode61"

_lock = threading.Lock()
_db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
_db.executescript(
    f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize = '{TOKENIZER}');"
    "CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance');"
)


def final_tokens(texts: list[str]) -> list[list[str]]:
    """Each text's tokens in order, as FTS5 would index it."""
    with _lock:
        _db.execute("BEGIN")
        try:
            _db.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", enumerate(texts))
            rows = _db.execute("SELECT doc, term FROM v ORDER BY doc, col, offset").fetchall()
        finally:
            _db.execute("ROLLBACK")  # the table stays empty for the next call
    tokens: list[list[str]] = [[] for _ in texts]
    for doc, term in rows:
        tokens[doc].append(term)
    return tokens


def term_counts(text: str) -> tuple[Counter[str], int]:
    """A passage's tokens with how often each occurs, and how many there are in all."""
    tokens = final_tokens([text])[0]
    return Counter(tokens), len(tokens)
