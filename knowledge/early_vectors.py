"""Embedding a long document's first pages while the rest of it is still being read.

pypdf reads a long PDF on one core for tens of seconds (the 619-page manual in ../shared/corpus:
about 26 s) while the embedding model, the other half of ingesting, waits for the whole file.
Fed the pages read so far, `EarlyVectors` splits them exactly as the finished document will be
split and embeds every passage that more pages cannot change: all but the last, which the next
page may still extend. The document is then indexed as usual, and a passage whose text was
embedded early is not embedded again. The vectors are keyed by the exact text embedded, so the
outcome is the same as without them, only sooner: a passage that came out differently in the
end (say, text the privacy review masked) simply finds no vector here and is embedded then.
"""

from __future__ import annotations

from knowledge.documents import Block
from knowledge.embeddings import SentenceEmbedder
from knowledge.splitting import SplitSettings, split_blocks


class EarlyVectors:
    """Vectors by text, embedded ahead from the blocks a document has given so far."""

    def __init__(self, embedder: SentenceEmbedder, split: SplitSettings) -> None:
        self._embedder = embedder
        self._split = split
        self._blocks: list[Block] = []
        self._vectors: dict[str, list[float]] = {}

    def add_blocks(self, blocks: list[Block]) -> None:
        """Take the next blocks in reading order and embed the passages they complete, leaving
        a core to the reader, which is still at work on the rest."""
        self._blocks += blocks
        settled = split_blocks(self._blocks, self._split)[:-1]
        with self._embedder.sharing_cpu():
            self._embed([text for chunk in settled for text in chunk.embedded_texts()])

    def embed(self, texts: list[str]) -> list[list[float]]:
        """The vectors of `texts`: the ones embedded early, the rest now. Each is handed out
        once and then let go: a long document's vectors are not all held at once."""
        self._embed(texts)
        vectors = [self._vectors[text] for text in texts]
        for text in texts:
            self._vectors.pop(text, None)
        return vectors

    def _embed(self, texts: list[str]) -> None:
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._embedder.embed_documents(missing), strict=True))
