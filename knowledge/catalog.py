"""The knowledge base's source of truth: documents, their chunks and the keyword index, in SQLite.

A document becomes visible to search in one SQLite transaction, after its vectors are in Chroma.
Dense hits are joined against this catalog, so vectors of a half-written document are never
returned; the `pending` table remembers such vectors so the next open can delete them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from knowledge.documents import Chunk, DocumentRecord
from knowledge.keywords import index_terms, query_terms
from knowledge.language import text_language

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    version TEXT NOT NULL,
    pages INTEGER,
    chunks INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    title_by_staff INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL REFERENCES documents(source) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    page INTEGER,
    section TEXT NOT NULL,
    text TEXT NOT NULL,
    is_faq INTEGER NOT NULL DEFAULT 0,
    lang TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS chunks_by_source ON chunks(source);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5(terms, tokenize = 'porter unicode61');
CREATE TABLE IF NOT EXISTS pending (version TEXT PRIMARY KEY, started_at TEXT NOT NULL);
"""
# How passages are turned into keyword terms and their language told. A knowledge base indexed
# by an older version is re-indexed (keywords only, no embedding) when it is opened:
# 2 = Malay passages by the roots of their words, Malay told by more of its words;
# 3 = Chinese told by words, not letters, against Latin script (product and street names).
_KEYWORD_INDEX_VERSION = "3"


@dataclass(frozen=True, slots=True)
class StoredChunk:
    chunk_id: str
    source: str
    path: str
    page: int | None
    section: str
    text: str
    lang: str
    title: str


def _keywords_of(chunk: Chunk) -> tuple[str, str]:
    """A passage's language group and the terms the keyword index holds for it."""
    lang = text_language(chunk.text)
    return lang, " ".join(index_terms(chunk.indexed_text(), lang))


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class Catalog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
        if "title" not in columns:  # a knowledge base made before documents had titles
            self._db.execute("ALTER TABLE documents ADD COLUMN title TEXT NOT NULL DEFAULT ''")
            self._db.execute(
                "ALTER TABLE documents ADD COLUMN title_by_staff INTEGER NOT NULL DEFAULT 0"
            )
        if self.get_meta("keyword_index") != _KEYWORD_INDEX_VERSION:
            self._rebuild_keyword_index()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def _rebuild_keyword_index(self) -> None:
        with self._transaction() as db:
            rows = db.execute("SELECT id, text, page, section, ordinal, is_faq FROM chunks")
            for row_id, text, page, section, ordinal, is_faq in rows.fetchall():
                lang, terms = _keywords_of(Chunk(text, page, section, ordinal, bool(is_faq)))
                db.execute("UPDATE chunks SET lang = ? WHERE id = ?", (lang, row_id))
                db.execute("DELETE FROM chunk_terms WHERE rowid = ?", (row_id,))
                db.execute("INSERT INTO chunk_terms(rowid, terms) VALUES (?, ?)", (row_id, terms))
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('keyword_index', ?)",
                (_KEYWORD_INDEX_VERSION,),
            )

    # -- documents ----------------------------------------------------------------------------
    def document(self, source: str) -> DocumentRecord | None:
        row = self._db.execute(
            "SELECT source, path, pages, chunks, sha256, ingested_at, kind, title FROM documents"
            " WHERE source = ?",
            (source,),
        ).fetchone()
        return DocumentRecord(*row) if row else None

    def documents(self) -> list[DocumentRecord]:
        rows = self._db.execute(
            "SELECT source, path, pages, chunks, sha256, ingested_at, kind, title FROM documents"
            " ORDER BY source"
        ).fetchall()
        return [DocumentRecord(*row) for row in rows]

    def chunk_ids(self, source: str) -> list[str]:
        rows = self._db.execute("SELECT chunk_id FROM chunks WHERE source = ?", (source,))
        return [row[0] for row in rows]

    def begin_version(self, version: str) -> None:
        """Record that vectors of `version` are about to be written (for crash clean-up)."""
        self._db.execute(
            "INSERT OR REPLACE INTO pending(version, started_at) VALUES (?, ?)",
            (version, now_iso()),
        )

    def pending_versions(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT version FROM pending")]

    def end_version(self, version: str) -> None:
        self._db.execute("DELETE FROM pending WHERE version = ?", (version,))

    def publish(
        self,
        *,
        source: str,
        path: str,
        kind: str,
        sha256: str,
        version: str,
        pages: int | None,
        chunks: list[tuple[str, Chunk]],
        title: str = "",
    ) -> str | None:
        """Make a document's new version the visible one, atomically. Returns the old version,
        whose vectors the caller deletes; it stays in `pending` until then."""
        with self._transaction() as db:
            old = db.execute(
                "SELECT version, title, title_by_staff FROM documents WHERE source = ?", (source,)
            ).fetchone()
            by_staff = bool(old and old[2])
            if by_staff:  # a new version of the file keeps the title staff gave it
                title = old[1]
            self._delete_chunks(db, source)
            db.execute("DELETE FROM documents WHERE source = ?", (source,))
            db.execute(
                "INSERT INTO documents(source, path, kind, sha256, version, pages, chunks,"
                " ingested_at, title, title_by_staff) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    source,
                    path,
                    kind,
                    sha256,
                    version,
                    pages,
                    len(chunks),
                    now_iso(),
                    title,
                    by_staff,
                ),
            )
            for chunk_id, chunk in chunks:
                lang, terms = _keywords_of(chunk)
                cursor = db.execute(
                    "INSERT INTO chunks(chunk_id, source, ordinal, page, section, text, is_faq,"
                    " lang) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        chunk_id,
                        source,
                        chunk.ordinal,
                        chunk.page,
                        chunk.section,
                        chunk.text,
                        chunk.is_faq,
                        lang,
                    ),
                )
                db.execute(
                    "INSERT INTO chunk_terms(rowid, terms) VALUES (?, ?)", (cursor.lastrowid, terms)
                )
            db.execute("DELETE FROM pending WHERE version = ?", (version,))
            if old and old[0] != version:
                db.execute(
                    "INSERT OR REPLACE INTO pending(version, started_at) VALUES (?, ?)",
                    (old[0], now_iso()),
                )
                return str(old[0])
        return None

    def set_title(self, source: str, title: str) -> bool:
        """Staff's own title for a document; False when there is no such document."""
        cursor = self._db.execute(
            "UPDATE documents SET title = ?, title_by_staff = 1 WHERE source = ?", (title, source)
        )
        return cursor.rowcount > 0

    def remove(self, source: str) -> str | None:
        """Remove a document from search at once; returns its version for vector clean-up."""
        with self._transaction() as db:
            row = db.execute("SELECT version FROM documents WHERE source = ?", (source,)).fetchone()
            if not row:
                return None
            self._delete_chunks(db, source)
            db.execute("DELETE FROM documents WHERE source = ?", (source,))
            db.execute(
                "INSERT OR REPLACE INTO pending(version, started_at) VALUES (?, ?)",
                (row[0], now_iso()),
            )
            return str(row[0])

    @staticmethod
    def _delete_chunks(db: sqlite3.Connection, source: str) -> None:
        db.execute(
            "DELETE FROM chunk_terms WHERE rowid IN (SELECT id FROM chunks WHERE source = ?)",
            (source,),
        )
        db.execute("DELETE FROM chunks WHERE source = ?", (source,))

    # -- reading --------------------------------------------------------------------------
    def chunks_by_id(self, chunk_ids: Iterable[str]) -> dict[str, StoredChunk]:
        ids = list(chunk_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            "SELECT c.chunk_id, c.source, d.path, c.page, c.section, c.text, c.lang, d.title"
            " FROM chunks c JOIN documents d ON d.source = c.source"
            f" WHERE c.chunk_id IN ({marks})",
            ids,
        )
        return {row[0]: StoredChunk(*row) for row in rows}

    def all_chunks(self) -> Iterator[tuple[str, str, Chunk]]:
        """(chunk_id, version, chunk) of every visible chunk, for re-embedding."""
        rows = self._db.execute(
            "SELECT c.chunk_id, d.version, c.text, c.page, c.section, c.ordinal, c.is_faq"
            " FROM chunks c JOIN documents d ON d.source = c.source ORDER BY c.id"
        )
        for chunk_id, version, text, page, section, ordinal, is_faq in rows:
            yield chunk_id, version, Chunk(text, page, section, ordinal, bool(is_faq))

    def holds_language(self, lang: str) -> bool:
        """Whether any visible passage is in this language group (en, cjk, other)."""
        row = self._db.execute(
            "SELECT 1 FROM chunks c JOIN documents d ON d.source = c.source"
            " WHERE c.lang = ? LIMIT 1",
            (lang,),
        ).fetchone()
        return row is not None

    def chunks_of(self, source: str) -> list[Chunk]:
        rows = self._db.execute(
            "SELECT text, page, section, ordinal, is_faq FROM chunks WHERE source = ?"
            " ORDER BY ordinal",
            (source,),
        )
        return [Chunk(t, p, s, o, bool(f)) for t, p, s, o, f in rows]

    def keyword_search(self, query: str, limit: int) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score, higher is better) for chunks sharing words with the query."""
        terms = query_terms(query)
        if not terms:
            return []
        expression = " OR ".join(f'"{term}"' for term in terms)
        rows = self._db.execute(
            "SELECT c.chunk_id, bm25(chunk_terms) AS rank FROM chunk_terms"
            " JOIN chunks c ON c.id = chunk_terms.rowid"
            " WHERE chunk_terms MATCH ? ORDER BY rank LIMIT ?",
            (expression, limit),
        )
        return [(chunk_id, -float(rank)) for chunk_id, rank in rows]
