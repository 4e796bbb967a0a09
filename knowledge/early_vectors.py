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

from collections import Counter
from collections.abc import Callable, Iterable

from knowledge.documents import Block
from knowledge.embeddings import SentenceEmbedder
from knowledge.splitting import SplitSettings, split_blocks

# Passages embedded between two looks at the reader: a few seconds' work on one thread, so the
# cores are handed back soon after the reader is done.
SLICE = 256


def _always() -> bool:
    return True


class EarlyVectors:
    """Vectors by text, embedded ahead from the blocks a document has given so far."""

    def __init__(self, embedder: SentenceEmbedder, split: SplitSettings) -> None:
        self._embedder = embedder
        self._split = split
        self._blocks: list[Block] = []
        self._vectors: dict[str, list[float]] = {}
        self._uses: Counter[str] = Counter()  # texts still to be asked for, and how often

    def add_blocks(
        self, blocks: list[Block], reading: Callable[[], bool] = _always, share: float = 1.0
    ) -> None:
        """Take the next blocks in reading order and embed the passages they complete, leaving
        a core to the reader, for as long as `reading` says it is still at work.

        Embedding runs on one thread beside the reader, and the reader is the faster of the
        two: all that was settled embedded on one thread kept going long after the reader had
        finished (bench/ingest.py's two documents: 103 s of the 141 in this call, the PDF read
        in 30). So it goes slice by slice, and stops as soon as the reader has handed over more
        or is done: the rest is embedded on every core when the document is indexed. `share`
        is the part of the document read so far (pages read of the page count), for telling
        the embedder how much is coming."""
        self._blocks += blocks
        settled = split_blocks(self._blocks, self._split)[:-1]
        texts = [text for chunk in settled for text in chunk.embedded_texts()]
        self._embedder.plan(int(sum(len(text) for text in texts) / max(share, 0.01)))
        texts = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        with self._embedder.sharing_cpu():
            for start in range(0, len(texts), SLICE):
                if not reading():
                    return
                self._embed(texts[start : start + SLICE])

    def expect(self, texts: Iterable[str]) -> None:
        """Every text the document will ask `embed` for, in order. A text it asks for more
        than once (a disclaimer under every table, a form repeated in each chapter: 630 of the
        872-page handbook's 1,250 passages repeat another) is embedded once and kept until its
        last use."""
        self._uses = Counter(texts)
        self._embedder.plan(sum(len(text) for text in self._uses))  # each embedded once

    def embed(self, texts: list[str]) -> list[list[float]]:
        """The vectors of `texts`: the ones embedded early, the rest now. Each is let go after
        its last use: a long document's vectors are not all held at once."""
        self._embed(texts)
        vectors = [self._vectors[text] for text in texts]
        for text in texts:
            left = self._uses.get(text, 1) - 1
            if left > 0:
                self._uses[text] = left
            else:
                self._uses.pop(text, None)
                self._vectors.pop(text, None)
        return vectors

    def _embed(self, texts: list[str]) -> None:
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._embedder.embed_documents(missing), strict=True))
