"""The knowledge base's source of truth: documents, their passages and the keyword index.

Two homes, one behaviour: a SQLite file per bot (the zero-setup default, `sqlite.py`) or the
application's PostgreSQL database, shared by every server (`postgres.py`). Both hold the same
keyword tokens and rank them by the same BM25, so a bot answers alike on either.

A document becomes visible to search in one transaction, after its vectors are in Chroma. Dense
hits are joined against the catalog, so vectors of a half-written document are never returned;
the pending versions let the next open delete such vectors, once no writer is at work.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from knowledge.documents import Chunk, DocumentRecord
from knowledge.keywords import index_terms
from knowledge.language import text_language

# How passages are turned into keyword terms and their language told. A knowledge base indexed
# by an older version is re-indexed (keywords only, no embedding) when it is opened:
# 2 = Malay passages by the roots of their words, Malay told by more of its words;
# 3 = Chinese told by words, not letters, against Latin script (product and street names).
KEYWORD_INDEX_VERSION = "3"


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


def keywords_of(chunk: Chunk) -> tuple[str, str]:
    """A passage's language group and the terms the keyword index holds for it."""
    lang = text_language(chunk.text)
    return lang, " ".join(index_terms(chunk.indexed_text(), lang))


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class Catalog(Protocol):
    """What a knowledge base keeps besides its vectors. `writing()` is held by every process
    writing vectors, for as long as it writes; `alone()` says whether none is (and keeps new
    ones out while true), so that only then are pending versions taken for abandoned ones."""

    def close(self) -> None: ...
    def drop(self) -> None: ...
    def writing(self) -> AbstractContextManager[None]: ...
    def alone(self) -> AbstractContextManager[bool]: ...

    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...

    def document(self, source: str) -> DocumentRecord | None: ...
    def documents(self) -> list[DocumentRecord]: ...
    def begin_version(self, version: str) -> None: ...
    def pending_versions(self) -> list[str]: ...
    def end_version(self, version: str) -> None: ...
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
    ) -> str | None: ...
    def set_title(self, source: str, title: str) -> bool: ...
    def remove(self, source: str) -> str | None: ...

    def chunks_by_id(self, chunk_ids: Iterable[str]) -> dict[str, StoredChunk]: ...
    def all_chunks(self) -> Iterator[tuple[str, str, Chunk]]: ...
    def holds_language(self, lang: str) -> bool: ...
    def chunks_of(self, source: str) -> list[Chunk]: ...
    def keyword_search(self, terms: Sequence[str], limit: int) -> list[tuple[str, float]]: ...
