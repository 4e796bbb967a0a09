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


def test_a_passage_repeated_through_a_long_document_has_a_vector_for_every_copy(
    tmp_path: Path,
) -> None:
    # A disclaimer under every section, hundreds of passages apart: embedded once (it is
    # asked for again long after the batch that first embedded it), and still every copy of
    # it is indexed with its own section.
    sections = [
        f"## Model {n} washing machine\n\nThe Model {n} takes {n % 9 + 5} kg of laundry and"
        f" spins at {800 + n} rpm.\n\n## Terms\n\nPrices include SST. Delivery within Penang"
        " island only."
        for n in range(400)
    ]
    path = tmp_path / "catalogue.md"
    path.write_text("# Catalogue\n\n" + "\n\n".join(sections), encoding="utf-8")
    kb = KnowledgeBase(
        "shop", tmp_path / "kb", open_chroma(path=str(tmp_path / "chroma")), SentenceEmbedder()
    )
    report = ingest_paths(kb, [path], IngestLimits())
    assert not report.rejected
    passages = kb.chunks_of("catalogue.md")
    repeated = [p for p in passages if "Prices include SST" in p.text]
    assert len(repeated) == 400 and len({p.indexed_text() for p in repeated}) == 1
    hits = kb.search("Do prices include SST? Delivery within Penang island only?", 50)
    assert len({h.chunk_id for h in hits if "Prices include SST" in h.text}) == 50
    kb.close()
