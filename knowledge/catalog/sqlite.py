"""A bot's catalog in a SQLite file of its own, the keyword index in FTS5 (the default)."""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from knowledge.catalog import KEYWORD_INDEX_VERSION, StoredChunk, keywords_of, now_iso
from knowledge.catalog.fts_tokens import TOKENIZER
from knowledge.documents import Chunk, DocumentRecord

_SCHEMA = f"""
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
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5(terms, tokenize = '{TOKENIZER}');
CREATE TABLE IF NOT EXISTS pending (version TEXT PRIMARY KEY, started_at TEXT NOT NULL);
"""


class SqliteCatalog:
    """A bot's catalog in `path`, with its writers' lock file beside it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Held shared by every process writing vectors into this knowledge base, for as long as
        # it writes; the OS lets go of it when a writer dies, however it dies.
        self._writers = path.parent / "writers.lock"
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
        if self.get_meta("keyword_index") != KEYWORD_INDEX_VERSION:
            self._rebuild_keyword_index()

    def close(self) -> None:
        self._db.close()

    def drop(self) -> None:
        """Nothing to do: the caller removes the bot's folder, this file with it."""

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._writers.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            yield  # closing the file lets go of the lock

    @contextmanager
    def alone(self) -> Iterator[bool]:
        with self._writers.open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True

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
                lang, terms = keywords_of(Chunk(text, page, section, ordinal, bool(is_faq)))
                db.execute("UPDATE chunks SET lang = ? WHERE id = ?", (lang, row_id))
                db.execute("DELETE FROM chunk_terms WHERE rowid = ?", (row_id,))
                db.execute("INSERT INTO chunk_terms(rowid, terms) VALUES (?, ?)", (row_id, terms))
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('keyword_index', ?)",
                (KEYWORD_INDEX_VERSION,),
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
                lang, terms = keywords_of(chunk)
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

    def keyword_search(self, terms: Sequence[str], limit: int) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score, higher is better) for chunks holding any of `terms` (a
        `Query`'s)."""
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
