"""A long PDF's first pages are embedded while the rest is still being read, with the outcome
the same as if nothing had been done early."""

from __future__ import annotations

from pathlib import Path

from chatbot.privacy.documents import PersonalDataReview
from knowledge.base import KnowledgeBase
from knowledge.documents import Block
from knowledge.embeddings import SentenceEmbedder
from knowledge.ingest import IngestLimits, ProgressSink, ingest_paths
from knowledge.parse_worker import ParseLimits, ParseWorker
from knowledge.vectors import open_chroma
from tests.conftest import corpus

THESIS = "pdf/thesis-117-pages-german.pdf"  # 117 pages; its contact e-mail is personal data


def test_a_long_pdf_arrives_in_parts_that_are_the_beginning_of_the_whole() -> None:
    parts: list[tuple[list[Block], int, int]] = []
    with ParseWorker(ParseLimits()) as worker:
        whole = worker.parse(
            "pdf",
            corpus(THESIS).read_bytes(),
            on_part=lambda blocks, read, total: parts.append((blocks, read, total)),
        )
        # The worker is in step for the next file after handing over parts.
        small = worker.parse("text", b"Opening hours: 10am to 8pm daily.")
    assert len(parts) >= 2
    pages_read = [read for _, read, _ in parts]
    assert pages_read == sorted(set(pages_read)) and pages_read[-1] < 117
    assert {total for _, _, total in parts} == {117}
    early = [block for blocks, _, _ in parts for block in blocks]
    assert early and whole.blocks[: len(early)] == early
    assert small.blocks[0].text == "Opening hours: 10am to 8pm daily."


class _PagesSeen(ProgressSink):
    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    def pages(self, read: int, total: int) -> None:
        self.seen.append((read, total))


def test_passages_embedded_while_reading_have_their_own_vectors(tmp_path: Path) -> None:
    embedder = SentenceEmbedder()
    kb = KnowledgeBase("thesis", tmp_path / "kb", open_chroma(path=str(tmp_path)), embedder)
    progress = _PagesSeen()
    # Masking changes passages after they were read: what was embedded early from the
    # unmasked text must not be what gets stored for them.
    report = ingest_paths(
        kb, [corpus(THESIS)], IngestLimits(), progress, PersonalDataReview(mask_it=True)
    )
    assert not report.rejected and report.ingested
    assert progress.seen and all(total == 117 for _, total in progress.seen)
    passages = kb.chunks_of("thesis-117-pages-german.pdf")
    assert any("[EMAIL]" in p.text for p in passages)
    assert not any("info@martin" in p.text for p in passages)
    for passage in passages:
        # Each passage's own text finds its own vector: nearly identical, not some neighbour's.
        hits = kb.search(passage.indexed_text(), 3)
        best = next(h for h in hits if h.text == passage.text)
        assert best.similarity is not None and best.similarity > 0.995, passage.text[:80]
    kb.close()
