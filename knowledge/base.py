"""One bot's knowledge base: a catalog (documents, passages, keyword index) and its vectors."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from knowledge.catalog import Catalog
from knowledge.catalog.sqlite import SqliteCatalog
from knowledge.documents import Chunk, DocumentRecord, Hit, LoadedDocument, title_of
from knowledge.early_vectors import EarlyVectors
from knowledge.embeddings import SentenceEmbedder
from knowledge.errors import KnowledgeError, ModelMismatch
from knowledge.language import QueryLanguage
from knowledge.layout import CATALOG_FILE
from knowledge.query import Query
from knowledge.retrieval import Candidates, FusionSettings, fuse
from knowledge.splitting import SplitSettings, split_blocks
from knowledge.vectors import VectorStore
from knowledge.vocabulary import Vocabulary

log = logging.getLogger(__name__)

BOT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_EMBED_BATCH = 256  # chunks embedded per step: bounds memory on very long documents
_QUESTION_SUFFIX = "~q"  # the id of an FAQ question's own vector: <chunk id>~q


def check_bot_name(name: str) -> str:
    if not BOT_NAME.match(name):
        raise KnowledgeError(
            f"bot name {name!r} is not allowed: use lower-case letters, digits, '-' and '_'"
            " (at most 63 characters, starting with a letter or digit)"
        )
    return name


class KnowledgeBase:
    def __init__(
        self,
        bot: str,
        directory: Path,
        chroma: Any,
        embedder: SentenceEmbedder,
        split: SplitSettings | None = None,
        fusion: FusionSettings | None = None,
        *,
        check_model: bool = True,
        catalog: Catalog | None = None,
    ) -> None:
        """`chroma`: the Chroma client, or what makes it when the vectors are first needed.
        `catalog`: where its documents and keyword index are kept; by default a SQLite file
        in `directory`."""
        self.bot = check_bot_name(bot)
        self.embedder = embedder
        self.split = split or SplitSettings()
        self.fusion = fusion or FusionSettings()
        self._catalog = catalog or SqliteCatalog(directory / CATALOG_FILE)
        self._chroma = chroma
        self._store: VectorStore | None = None
        # The documents' words, built on first use and again when the documents change.
        self._vocabulary: tuple[tuple[tuple[str, str, str, str], ...], Vocabulary] | None = None
        if check_model:
            self._check_model()
        self._clean_pending()

    def close(self) -> None:
        self._catalog.close()

    @property
    def _vectors(self) -> VectorStore:
        """The vector store, opened on first use: listing documents, reading the catalog or
        retitling needs none, and opening Chroma's client took about a second of every such
        command (`chatbot docs`)."""
        if self._store is None:
            client = self._chroma() if callable(self._chroma) else self._chroma
            self._store = VectorStore(client, f"kb-{self.bot}")
        return self._store

    # -- integrity ----------------------------------------------------------------------
    def _check_model(self) -> None:
        recorded = self._catalog.get_meta("embedding_model")
        if recorded is None:
            self._catalog.set_meta("embedding_model", self.embedder.name)
        elif recorded != self.embedder.name:
            raise ModelMismatch(
                f"knowledge base {self.bot!r} was indexed with embedding model {recorded!r}, but"
                f" {self.embedder.name!r} is configured; run `chatbot reindex --bot {self.bot}`"
                " to re-index it with the configured model"
            )

    def _clean_pending(self) -> None:
        """Delete vectors left by an ingest that crashed or by a replaced document; but only
        when no process is writing (any number of readers open a bot while an ingest runs:
        a live writer's version is pending too, and must keep its vectors)."""
        with self._catalog.alone() as alone:
            if not alone:
                return  # a writer is at work; a later open cleans up
            for version in self._catalog.pending_versions():
                self._vectors.delete_version(version)
                self._catalog.end_version(version)

    # -- writing ------------------------------------------------------------------------
    def is_unchanged(self, source: str, sha256: str) -> bool:
        record = self._catalog.document(source)
        return record is not None and record.sha256 == sha256

    def add_document(
        self,
        *,
        source: str,
        path: str,
        kind: str,
        sha256: str,
        loaded: LoadedDocument,
        on_progress: Callable[[int, int], None] | None = None,
        early: EarlyVectors | None = None,
        max_passages: int | None = None,
        max_embed_s: float | None = None,
    ) -> int:
        """Index a parsed document, replacing any older version of the same source.

        Search sees either the old version or the new one, never a mix: the new vectors are
        written first under a new version id, then the catalog switches in one transaction.
        `early` holds vectors already embedded while the document was being read. A document
        of more than `max_passages` passages, or whose embedding takes longer than
        `max_embed_s`, is refused (KnowledgeError), nothing of it kept.
        """
        title = title_of(loaded, source)
        chunks = split_blocks(loaded.blocks, self.split, title)
        if not chunks:
            raise KnowledgeError("no text found")
        if max_passages is not None and len(chunks) > max_passages:
            raise KnowledgeError(
                f"the document makes {len(chunks):,} passages, over the limit of"
                f" {max_passages:,}; split it into smaller files"
            )
        version = hashlib.sha256(f"{source}\0{sha256}".encode()).hexdigest()[:20]
        identified = [(f"{version}-{chunk.ordinal}", chunk) for chunk in chunks]
        with self._catalog.writing():
            self._catalog.begin_version(version)
            try:
                self._embed(
                    identified, version, on_progress, early or self.early_vectors(), max_embed_s
                )
            except KnowledgeError:
                self._vectors.delete_version(version)  # nothing of it stays
                self._catalog.end_version(version)
                raise
            old = self._catalog.publish(
                source=source,
                path=path,
                kind=kind,
                sha256=sha256,
                version=version,
                pages=loaded.pages,
                chunks=identified,
                title=title,
            )
            if old:
                self._vectors.delete_version(old)
                self._catalog.end_version(old)
        return len(chunks)

    def set_title(self, source: str, title: str) -> None:
        """Staff's title for a document, shown to customers under answers from it."""
        title = " ".join(title.split())
        if not title or len(title) > 200:
            raise KnowledgeError("a title needs 1 to 200 characters")
        if not self._catalog.set_title(source, title):
            raise KnowledgeError(f"no document {source!r}")

    def forget(self, source: str) -> bool:
        version = self._catalog.remove(source)
        if version is None:
            return False
        self._vectors.delete_version(version)
        self._catalog.end_version(version)
        return True

    def drop(self) -> None:
        """Delete every vector and catalog entry of this knowledge base; the caller removes its
        folder."""
        self._vectors.drop()
        self._catalog.drop()

    def reindex(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Re-embed every chunk with the configured model, e.g. after changing models."""
        self._vectors.drop()
        self._store = None  # made anew on first use
        by_version: dict[str, list[tuple[str, Chunk]]] = {}
        for chunk_id, version, chunk in self._catalog.all_chunks():
            by_version.setdefault(version, []).append((chunk_id, chunk))
        total = sum(len(chunks) for chunks in by_version.values())
        done = 0
        with self._catalog.writing():
            for version, chunks in by_version.items():
                self._embed(chunks, version, None, self.early_vectors())
                done += len(chunks)
                if on_progress:
                    on_progress(done, total)
        self._catalog.set_meta("embedding_model", self.embedder.name)
        return total

    def early_vectors(self) -> EarlyVectors:
        """Somewhere to embed a document's passages while it is still being read."""
        return EarlyVectors(self.embedder, self.split)

    def _embed(
        self,
        chunks: list[tuple[str, Chunk]],
        version: str,
        on_progress: Callable[[int, int], None] | None,
        vectors: EarlyVectors,
        max_s: float | None = None,
    ) -> None:
        """Write the vectors of `chunks`: one per passage, plus one per FAQ question; past
        `max_s` seconds, KnowledgeError."""
        began = time.monotonic()
        vectors.expect(text for _, chunk in chunks for text in chunk.embedded_texts())
        for start in range(0, len(chunks), _EMBED_BATCH):
            if max_s is not None and start and time.monotonic() - began > max_s:
                raise KnowledgeError(
                    f"embedding its passages took longer than {max_s:g} s, the limit; split it"
                    " into smaller files"
                )
            batch = chunks[start : start + _EMBED_BATCH]
            ids, texts = [], []
            for chunk_id, chunk in batch:  # the passage's vector, then its question's if any
                embedded = chunk.embedded_texts()
                for suffix, text in zip(("", _QUESTION_SUFFIX), embedded, strict=False):
                    ids.append(f"{chunk_id}{suffix}")
                    texts.append(text)
            self._vectors.add(ids, vectors.embed(texts), version)
            if on_progress:
                on_progress(start + len(batch), len(chunks))

    # -- reading ------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        return self._catalog.documents()

    def chunks_of(self, source: str) -> list[Chunk]:
        """A document's passages in order, as they are indexed."""
        return self._catalog.chunks_of(source)

    def vocabulary(self, documents: list[DocumentRecord] | None = None) -> Vocabulary:
        """The words of this bot's documents, for correcting customers' misspellings of them;
        `documents`: this knowledge base's documents() when the caller has just read them."""
        documents = self.documents() if documents is None else documents
        state = tuple((d.source, d.sha256, d.ingested_at, d.title) for d in documents)
        cached = self._vocabulary
        if cached is not None and cached[0] == state:
            return cached[1]
        texts = [d.title for d in documents]
        for _, _, chunk in self._catalog.all_chunks():
            texts += (chunk.section, chunk.text)
        vocabulary = Vocabulary(texts)
        self._vocabulary = (state, vocabulary)  # one assignment: safe for concurrent readers
        return vocabulary

    def find_sources(self, name: str) -> list[str]:
        """Sources matching `name` exactly, or by file name when a path was given."""
        sources = [d.source for d in self.documents()]
        if name in sources:
            return [name]
        return [d.source for d in self.documents() if d.path == name or Path(d.path).name == name]

    def candidates(self, query: Query | str) -> Candidates:
        """Each retriever's ranking of chunk ids for `query`, before fusion."""
        query = query if isinstance(query, Query) else Query.of(query)
        limit = self.fusion.candidates
        passages, questions = [], []
        vector = self.embedder.embed_query(query.text)
        for vector_id, similarity in self._vectors.query(vector, limit):
            if vector_id.endswith(_QUESTION_SUFFIX):  # an FAQ question stands for its entry
                questions.append((vector_id.removesuffix(_QUESTION_SUFFIX), similarity))
            else:
                passages.append((vector_id, similarity))
        return Candidates(passages, questions, self._catalog.keyword_search(query.terms, limit))

    def search(self, query: Query | str, k: int = 5) -> list[Hit]:
        """The `k` passages that best answer `query`, best first. A question the answering
        chain has read is passed as its `Query`; a plain string is read here."""
        query = query if isinstance(query, Query) else Query.of(query)
        if not query.text:
            return []
        candidates = self.candidates(query)
        # How close the question is to a chunk: its passage's or, nearer, its FAQ question's.
        similarity = dict(candidates.passages)
        for chunk_id, closeness in candidates.faq_questions:
            similarity[chunk_id] = max(closeness, similarity.get(chunk_id, closeness))
        # The dense ranking weighs by what the embedding model can read of the text; the
        # customer's own language wins a near tie.
        fused = fuse(query.language, candidates, self.fusion)[: k * 4]
        # Only chunks in the catalog are visible: vectors of unfinished ingests are skipped.
        stored = self._catalog.chunks_by_id(chunk_id for chunk_id, _ in fused)
        boost = 1.0 + self.fusion.same_language_boost
        hits = [
            Hit(
                chunk_id,
                c.source,
                c.path,
                c.page,
                c.section,
                c.text,
                score * boost if c.lang == query.customer.value else score,
                similarity.get(chunk_id),
                c.title or c.source,
            )
            for chunk_id, score in fused
            if (c := stored.get(chunk_id)) is not None
        ]
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits[:k]

    def check_vectors(self) -> None:
        """Raises StoreUnavailable unless the vector store answers (for /readyz)."""
        self._vectors.check()

    def holds_language(self, language: QueryLanguage) -> bool:
        """Whether any passage is in this language group."""
        return self._catalog.holds_language(language.value)
