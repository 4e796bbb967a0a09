"""Every bot's catalog in the application's PostgreSQL database, so that all servers share it.

Its tables live in a schema of their own, `knowledge`, beside the application's (whose
migrations own the default schema and compare it with their metadata). The keyword index is
PostgreSQL's full-text search: each passage's tokens in a `tsvector` (exactly the tokens the
SQLite index holds, fts_tokens.py) under a GIN index, found by a `tsquery`; and ranked by the
BM25 that SQLite's FTS5 computes (ts_rank is not BM25, and ranking by it would change which
passage answers). The writers' lock is a session advisory lock: PostgreSQL lets go of it when
the writer's connection ends, however its process ends.
"""

from __future__ import annotations

import threading
import weakref
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, text

from knowledge.catalog import KEYWORD_INDEX_VERSION, StoredChunk, keywords_of, now_iso
from knowledge.catalog.fts_tokens import final_tokens
from knowledge.documents import Chunk, DocumentRecord

_SCHEMA = [
    "CREATE SCHEMA IF NOT EXISTS knowledge",
    """CREATE TABLE IF NOT EXISTS knowledge.meta (
        kb TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kb, key))""",
    """CREATE TABLE IF NOT EXISTS knowledge.documents (
        kb TEXT NOT NULL,
        source TEXT NOT NULL,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        version TEXT NOT NULL,
        pages INTEGER,
        chunks INTEGER NOT NULL,
        ingested_at TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        title_by_staff BOOLEAN NOT NULL DEFAULT false,
        PRIMARY KEY (kb, source))""",
    """CREATE TABLE IF NOT EXISTS knowledge.chunks (
        id BIGSERIAL PRIMARY KEY,
        kb TEXT NOT NULL,
        chunk_id TEXT NOT NULL,
        source TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        page INTEGER,
        section TEXT NOT NULL,
        text TEXT NOT NULL,
        is_faq BOOLEAN NOT NULL,
        lang TEXT NOT NULL,
        terms TSVECTOR NOT NULL,
        term_count INTEGER NOT NULL,
        UNIQUE (kb, chunk_id),
        FOREIGN KEY (kb, source) REFERENCES knowledge.documents (kb, source) ON DELETE CASCADE)""",
    "CREATE INDEX IF NOT EXISTS chunks_by_source ON knowledge.chunks (kb, source)",
    "CREATE INDEX IF NOT EXISTS chunks_by_terms ON knowledge.chunks USING GIN (terms)",
    """CREATE TABLE IF NOT EXISTS knowledge.pending (
        kb TEXT NOT NULL, version TEXT NOT NULL, started_at TEXT NOT NULL,
        PRIMARY KEY (kb, version))""",
]
_LOCKS = 0x6B62  # the first key of this module's advisory locks ("kb"); the second is the bot's
# PostgreSQL keeps at most 256 positions of a lexeme and refuses lexemes over 2 KB. A passage's
# frequencies are capped there (none comes near it) and its length kept whole for BM25.
_MAX_POSITIONS, _MAX_LEXEME_BYTES = 256, 2046
# The databases whose schema this process has made sure of: once each, not once per bot opened.
_installed: weakref.WeakSet[Engine] = weakref.WeakSet()
_installing = threading.Lock()
# BM25's constants as FTS5 has them: the same ranking in either home.
_K1, _B = 1.2, 0.75

_SEARCH = """
WITH q AS (
    SELECT term, count(*) AS times FROM unnest(CAST(:terms AS text[])) AS term GROUP BY term
), stats AS (
    SELECT count(*)::float8 AS n_rows, greatest(sum(term_count), 1)::float8 AS n_tokens
    FROM knowledge.chunks WHERE kb = :kb
), matched AS (
    SELECT c.id, c.chunk_id, c.term_count, t.lexeme AS term, cardinality(t.positions) AS tf
    FROM knowledge.chunks c CROSS JOIN LATERAL unnest(c.terms) AS t(lexeme, positions, weights)
    WHERE c.kb = :kb AND c.terms @@ CAST(:query AS tsquery)
      AND t.lexeme = ANY(CAST(:terms AS text[]))
), df AS (
    SELECT term, count(*)::float8 AS n_hit FROM matched GROUP BY term
)
SELECT m.chunk_id, sum(
    q.times * greatest(ln((s.n_rows - df.n_hit + 0.5) / (df.n_hit + 0.5)), 1e-6)
    * m.tf * (:k1 + 1)
    / (m.tf + :k1 * (1 - :b + :b * m.term_count / (s.n_tokens / s.n_rows)))
) AS score
FROM matched m JOIN df USING (term) JOIN q USING (term) CROSS JOIN stats s
GROUP BY m.id, m.chunk_id ORDER BY score DESC, m.id LIMIT :limit
"""


def _quoted(lexeme: str) -> str:
    """A lexeme as tsvector and tsquery literals spell it (quotes and backslashes doubled)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _fits(lexeme: str) -> bool:
    return len(lexeme.encode()) <= _MAX_LEXEME_BYTES


def _tsvector(tokens: list[str]) -> str:
    counts: dict[str, int] = {}
    for token in tokens:
        if _fits(token):
            counts[token] = counts.get(token, 0) + 1
    return " ".join(
        f"{_quoted(lexeme)}:" + ",".join(str(p) for p in range(1, min(n, _MAX_POSITIONS) + 1))
        for lexeme, n in counts.items()
    )


def _install(engine: Engine) -> None:
    with _installing:
        if engine in _installed:
            return
        with engine.begin() as db:
            # Two servers starting at once would race to create the same tables.
            db.execute(text("SELECT pg_advisory_xact_lock(:a, 0)"), {"a": _LOCKS})
            for statement in _SCHEMA:
                db.execute(text(statement))
        _installed.add(engine)


class PostgresCatalog:
    """Bot `kb`'s catalog in the database `engine` connects to."""

    def __init__(self, engine: Engine, kb: str) -> None:
        self._engine, self._kb = engine, kb
        self._lock_key = zlib.crc32(kb.encode()) - 2**31  # advisory keys are signed int4
        _install(engine)
        if self.get_meta("keyword_index") != KEYWORD_INDEX_VERSION:
            self._rebuild_keyword_index()

    def _run(self, db: Connection, sql: str, **params: Any) -> Any:
        return db.execute(text(sql), {"kb": self._kb, **params})

    def _read(self, sql: str, **params: Any) -> list[Any]:
        with self._engine.connect() as db:
            return list(self._run(db, sql, **params))

    def close(self) -> None:
        """Nothing to do: the engine's connections belong to the application."""

    def drop(self) -> None:
        with self._engine.begin() as db:
            for table in ("chunks", "documents", "meta", "pending"):
                self._run(db, f"DELETE FROM knowledge.{table} WHERE kb = :kb")

    @contextmanager
    def _advisory(self, lock: str, unlock: str) -> Iterator[bool]:
        """A session advisory lock on a connection of its own, held while the block runs;
        yields whether it was had (a `pg_try_` function may not have it)."""
        keys = {"a": _LOCKS, "b": self._lock_key}
        with self._engine.connect() as db:
            held = db.execute(text(f"SELECT {lock}(:a, :b)"), keys).scalar() is not False
            db.commit()  # the lock outlives the transaction, not the session
            try:
                yield held
            finally:
                if held:
                    db.execute(text(f"SELECT {unlock}(:a, :b)"), keys)
                    db.commit()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._advisory("pg_advisory_lock_shared", "pg_advisory_unlock_shared"):
            yield

    @contextmanager
    def alone(self) -> Iterator[bool]:
        with self._advisory("pg_try_advisory_lock", "pg_advisory_unlock") as held:
            yield held

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM knowledge.meta WHERE kb = :kb AND key = :key", key=key)
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._engine.begin() as db:
            self._set_meta(db, key, value)

    def _set_meta(self, db: Connection, key: str, value: str) -> None:
        self._run(
            db,
            "INSERT INTO knowledge.meta (kb, key, value) VALUES (:kb, :key, :value)"
            " ON CONFLICT (kb, key) DO UPDATE SET value = excluded.value",
            key=key,
            value=value,
        )

    def _rebuild_keyword_index(self) -> None:
        with self._engine.begin() as db:
            rows = self._run(
                db,
                "SELECT id, text, page, section, ordinal, is_faq FROM knowledge.chunks"
                " WHERE kb = :kb FOR UPDATE",
            ).fetchall()
            for row_id, body, page, section, ordinal, is_faq in rows:
                lang, terms = keywords_of(Chunk(body, page, section, ordinal, bool(is_faq)))
                tokens = final_tokens([terms])[0]
                self._run(
                    db,
                    "UPDATE knowledge.chunks SET lang = :lang, terms = CAST(:terms AS tsvector),"
                    " term_count = :n WHERE id = :id",
                    lang=lang,
                    terms=_tsvector(tokens),
                    n=len(tokens),
                    id=row_id,
                )
            self._set_meta(db, "keyword_index", KEYWORD_INDEX_VERSION)

    # -- documents ----------------------------------------------------------------------------
    _DOCUMENT = (
        "SELECT source, path, pages, chunks, sha256, ingested_at, kind, title"
        " FROM knowledge.documents WHERE kb = :kb"
    )

    def document(self, source: str) -> DocumentRecord | None:
        rows = self._read(self._DOCUMENT + " AND source = :source", source=source)
        return DocumentRecord(*rows[0]) if rows else None

    def documents(self) -> list[DocumentRecord]:
        return [DocumentRecord(*row) for row in self._read(self._DOCUMENT + " ORDER BY source")]

    def begin_version(self, version: str) -> None:
        with self._engine.begin() as db:
            self._pend(db, version)

    def _pend(self, db: Connection, version: str) -> None:
        self._run(
            db,
            "INSERT INTO knowledge.pending (kb, version, started_at) VALUES (:kb, :v, :at)"
            " ON CONFLICT (kb, version) DO UPDATE SET started_at = excluded.started_at",
            v=version,
            at=now_iso(),
        )

    def pending_versions(self) -> list[str]:
        return [
            row[0] for row in self._read("SELECT version FROM knowledge.pending WHERE kb = :kb")
        ]

    def end_version(self, version: str) -> None:
        with self._engine.begin() as db:
            self._run(
                db, "DELETE FROM knowledge.pending WHERE kb = :kb AND version = :v", v=version
            )

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
        whose vectors the caller deletes; it stays pending until then."""
        keyworded = [keywords_of(chunk) for _, chunk in chunks]
        tokens = final_tokens([terms for _, terms in keyworded])
        with self._engine.begin() as db:
            old = self._run(
                db,
                "SELECT version, title, title_by_staff FROM knowledge.documents"
                " WHERE kb = :kb AND source = :source FOR UPDATE",
                source=source,
            ).fetchone()
            if old and old[2]:  # a new version of the file keeps the title staff gave it
                title = old[1]
            self._run(
                db, "DELETE FROM knowledge.documents WHERE kb = :kb AND source = :source",
                source=source,
            )  # fmt: skip
            self._run(
                db,
                "INSERT INTO knowledge.documents (kb, source, path, kind, sha256, version, pages,"
                " chunks, ingested_at, title, title_by_staff) VALUES (:kb, :source, :path, :kind,"
                " :sha256, :version, :pages, :n, :at, :title, :by_staff)",
                source=source,
                path=path,
                kind=kind,
                sha256=sha256,
                version=version,
                pages=pages,
                n=len(chunks),
                at=now_iso(),
                title=title,
                by_staff=bool(old and old[2]),
            )
            if chunks:
                db.execute(
                    text(
                        "INSERT INTO knowledge.chunks (kb, chunk_id, source, ordinal, page,"
                        " section, text, is_faq, lang, terms, term_count) VALUES (:kb, :chunk_id,"
                        " :source, :ordinal, :page, :section, :text, :is_faq, :lang,"
                        " CAST(:terms AS tsvector), :term_count)"
                    ),
                    [
                        {
                            "kb": self._kb,
                            "chunk_id": chunk_id,
                            "source": source,
                            "ordinal": chunk.ordinal,
                            "page": chunk.page,
                            "section": chunk.section,
                            "text": chunk.text,
                            "is_faq": chunk.is_faq,
                            "lang": lang,
                            "terms": _tsvector(own),
                            "term_count": len(own),
                        }
                        for (chunk_id, chunk), (lang, _), own in zip(
                            chunks, keyworded, tokens, strict=True
                        )
                    ],
                )
            self._run(
                db, "DELETE FROM knowledge.pending WHERE kb = :kb AND version = :v", v=version
            )
            if old and old[0] != version:
                self._pend(db, old[0])
                return str(old[0])
        return None

    def set_title(self, source: str, title: str) -> bool:
        with self._engine.begin() as db:
            done = self._run(
                db,
                "UPDATE knowledge.documents SET title = :title, title_by_staff = true"
                " WHERE kb = :kb AND source = :source",
                title=title,
                source=source,
            )
            return bool(done.rowcount)

    def remove(self, source: str) -> str | None:
        with self._engine.begin() as db:
            row = self._run(
                db,
                "DELETE FROM knowledge.documents WHERE kb = :kb AND source = :source"
                " RETURNING version",
                source=source,
            ).fetchone()
            if row is None:
                return None
            self._pend(db, row[0])
            return str(row[0])

    # -- reading --------------------------------------------------------------------------
    def chunks_by_id(self, chunk_ids: Iterable[str]) -> dict[str, StoredChunk]:
        ids = list(chunk_ids)
        if not ids:
            return {}
        rows = self._read(
            "SELECT c.chunk_id, c.source, d.path, c.page, c.section, c.text, c.lang, d.title"
            " FROM knowledge.chunks c JOIN knowledge.documents d"
            " ON d.kb = c.kb AND d.source = c.source"
            " WHERE c.kb = :kb AND c.chunk_id = ANY(CAST(:ids AS text[]))",
            ids=ids,
        )
        return {row[0]: StoredChunk(*row) for row in rows}

    def all_chunks(self) -> Iterator[tuple[str, str, Chunk]]:
        rows = self._read(
            "SELECT c.chunk_id, d.version, c.text, c.page, c.section, c.ordinal, c.is_faq"
            " FROM knowledge.chunks c JOIN knowledge.documents d"
            " ON d.kb = c.kb AND d.source = c.source WHERE c.kb = :kb ORDER BY c.id"
        )
        for chunk_id, version, body, page, section, ordinal, is_faq in rows:
            yield chunk_id, version, Chunk(body, page, section, ordinal, bool(is_faq))

    def holds_language(self, lang: str) -> bool:
        return bool(
            self._read(
                "SELECT 1 FROM knowledge.chunks WHERE kb = :kb AND lang = :lang LIMIT 1", lang=lang
            )
        )

    def chunks_of(self, source: str) -> list[Chunk]:
        rows = self._read(
            "SELECT text, page, section, ordinal, is_faq FROM knowledge.chunks"
            " WHERE kb = :kb AND source = :source ORDER BY ordinal",
            source=source,
        )
        return [Chunk(t, p, s, o, bool(f)) for t, p, s, o, f in rows]

    def keyword_search(self, terms: Sequence[str], limit: int) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score, higher is better) for chunks holding any of `terms` (a
        `Query`'s). A term FTS5 would search as a phrase of several tokens ("wi-fi") is
        searched here as those tokens, each scored alone."""
        terms = [t for term in final_tokens(list(terms)) for t in term if _fits(t)]
        if not terms:
            return []
        rows = self._read(
            _SEARCH,
            terms=terms,
            query=" | ".join(_quoted(t) for t in dict.fromkeys(terms)),
            k1=_K1,
            b=_B,
            limit=limit,
        )
        return [(chunk_id, float(score)) for chunk_id, score in rows]
