"""Retrieval quality on ../shared/eval, ours beside the LangChain tutorial retriever.

For every set, one knowledge base per `collection` (else one per set); for every question, the
rank of its gold document among the retrieved documents (passages deduplicated by document).
Prints hit@1, hit@5 and MRR@10 per set for both retrievers, measured in the same run.

    python -m bench.retrieval                 # the -test splits (what we report)
    python -m bench.retrieval --split dev     # the -dev splits (what we tune on)
    python -m bench.retrieval --sets cmrc-zh-dev --no-baseline
    python -m bench.retrieval --postgresql    # ours again with the catalog in PostgreSQL
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import SHARED, table

TARGETS = {
    "cmrc-zh": 0.93,
    "squad-ms": 0.85,
    "clapnq-en": 0.95,
    "covidfaq-en": 0.65,
    "policyqa-en": 0.25,
}
RETRIEVE = 30  # passages retrieved per question before deduplicating to documents


@dataclass
class Scores:
    hit1: float
    hit5: float
    mrr10: float
    n: int


def score(ranks: list[int | None]) -> Scores:
    n = len(ranks)
    hit1 = sum(1 for r in ranks if r == 1) / n
    hit5 = sum(1 for r in ranks if r is not None and r <= 5) / n
    mrr = sum(1 / r for r in ranks if r is not None and r <= 10) / n
    return Scores(hit1, hit5, mrr, n)


def rank_of(gold: str, sources: list[str]) -> int | None:
    seen: list[str] = []
    for source in sources:
        if source not in seen:
            seen.append(source)
        if source == gold:
            return len(seen)
    return None


def read_set(folder: Path) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """(docs by collection, questions by collection)."""
    docs: dict[str, list[dict]] = defaultdict(list)
    questions: dict[str, list[dict]] = defaultdict(list)
    for line in (folder / "docs.jsonl").read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        docs[doc.get("collection") or "all"].append(doc)
    for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        questions[q.get("collection") or "all"].append(q)
    return docs, questions


# -- ours -------------------------------------------------------------------------------------
def ours(
    folder: Path, workdir: Path, embedder, split=None, catalog_for=None
) -> Callable[[dict], list[str]]:
    """Index each collection through the product's own pipeline; returns a question -> sources
    function that fuses with whatever FusionSettings are current (for tuning). `catalog_for`:
    a knowledge base's name -> its catalog, when not the default SQLite file."""
    from knowledge.base import KnowledgeBase
    from knowledge.documents import Block, BlockKind, LoadedDocument
    from knowledge.loaders.textblocks import paragraphs_of
    from knowledge.retriever import KnowledgeRetriever
    from knowledge.vectors import open_chroma

    docs, _ = read_set(folder)
    chroma = open_chroma(path=str(workdir / "chroma"))
    bases = {}
    for index, (collection, items) in enumerate(docs.items()):
        name = f"c{index}"
        catalog = catalog_for(name) if catalog_for else None
        kb = KnowledgeBase(name, workdir / name, chroma, embedder, split=split, catalog=catalog)
        for doc in items:
            title, text = doc.get("title") or "", doc["text"]
            if title and text.startswith(title + "\n"):
                # An FAQ entry (question, then answer), as the CSV loader would give it.
                blocks = [Block(BlockKind.FAQ, text)]
            else:
                blocks = [Block(BlockKind.HEADING, title, None, 1)] if title else []
                blocks += [Block(BlockKind.PARAGRAPH, p) for p in paragraphs_of(text)]
            kb.add_document(
                source=doc["doc_id"],
                path=doc["doc_id"],
                kind="text",
                sha256=doc["doc_id"],
                loaded=LoadedDocument(blocks),
            )
        bases[collection] = kb
    # Through the LangChain retriever interface, as any LangChain app would use a bot's knowledge.
    retrievers = {c: KnowledgeRetriever(knowledge=kb, k=RETRIEVE) for c, kb in bases.items()}
    return lambda q: [
        d.metadata["source"] for d in retrievers[q.get("collection") or "all"].invoke(q["question"])
    ]


# -- the LangChain tutorial retriever -----------------------------------------------------
def tutorial(folder: Path, workdir: Path, model_path: str) -> Callable[[dict], list[str]]:
    import chromadb
    from chromadb.config import Settings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = HuggingFaceEmbeddings(model_name=model_path)
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    client = chromadb.PersistentClient(
        path=str(workdir / "tutorial"), settings=Settings(anonymized_telemetry=False)
    )
    docs, _ = read_set(folder)
    stores = {}
    for index, (collection, items) in enumerate(docs.items()):
        pieces = splitter.split_documents(
            [Document(page_content=d["text"], metadata={"doc_id": d["doc_id"]}) for d in items]
        )
        stores[collection] = Chroma.from_documents(
            pieces, embeddings, client=client, collection_name=f"tutorial-{index}"
        )
    retrievers = {
        c: store.as_retriever(search_kwargs={"k": RETRIEVE}) for c, store in stores.items()
    }
    return lambda q: [
        d.metadata["doc_id"] for d in retrievers[q.get("collection") or "all"].invoke(q["question"])
    ]


def evaluate(folder: Path, retrieve: Callable[[dict], list[str]]) -> tuple[Scores, Scores]:
    """Scores over all questions, and over the answerable ones only (whose gold document
    certainly holds the answer; an unanswerable question's is only related to it)."""
    _, questions = read_set(folder)
    ranked = [
        (q["answerable"], rank_of(q["doc_id"], retrieve(q)))
        for qs in questions.values()
        for q in qs
    ]
    return score([r for _, r in ranked]), score([r for a, r in ranked if a])


def main() -> None:
    from bench.common import quiet_libraries

    quiet_libraries()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test", choices=["test", "dev"])
    parser.add_argument("--sets", nargs="*", help="set folders, e.g. cmrc-zh-dev")
    parser.add_argument("--no-baseline", action="store_true", help="skip the tutorial retriever")
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        help="tokens of a passage the embedding model reads (embedding.max_tokens; 0: the"
        " model's own configured length); unset: the product's default",
    )
    parser.add_argument(
        "--postgresql",
        action="store_true",
        help="ours again with the catalog and keyword index in PostgreSQL (a server of the"
        " tests' own, from Debian's postgresql package)",
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        catalog_for = None
        if args.postgresql:
            from chatbot.store.database import open_database
            from knowledge.catalog.postgres import PostgresCatalog
            from tests.postgres import postgres_server

            engine = open_database(stack.enter_context(postgres_server()))
            runs = iter(range(10**6))  # each set's knowledge bases named afresh

            def catalog_for(name: str) -> PostgresCatalog:
                return PostgresCatalog(engine, f"{name}-{next(runs)}")

        run(args, catalog_for)


def run(args: argparse.Namespace, catalog_for: Callable[[str], object] | None) -> None:
    from knowledge.embeddings import SentenceEmbedder, resolve_model_path

    embedder = (
        SentenceEmbedder()
        if args.max_tokens is None
        else SentenceEmbedder(max_tokens=args.max_tokens or None)
    )
    names = args.sets or sorted(
        p.name
        for p in (SHARED / "eval").iterdir()
        if p.is_dir() and p.name.endswith(f"-{args.split}")
    )
    rows = []
    for name in names:
        folder = SHARED / "eval" / name
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            mine, mine_answerable = evaluate(folder, ours(folder, Path(tmp), embedder))
            ours_s = time.perf_counter() - started
            pg = None
            if catalog_for:
                pg, _ = evaluate(
                    folder, ours(folder, Path(tmp) / "pg", embedder, catalog_for=catalog_for)
                )
            base = base_answerable = None
            if not args.no_baseline:
                base, base_answerable = evaluate(
                    folder, tutorial(folder, Path(tmp), str(resolve_model_path("all-MiniLM-L6-v2")))
                )
        target = TARGETS.get(name.rsplit("-", 1)[0])
        rows.append(
            [
                name,
                str(mine.n),
                f"{mine.hit1:.3f}",
                f"{mine.hit5:.3f}",
                f"{mine.mrr10:.3f}",
                f"{base.hit1:.3f}" if base else "-",
                f"{base.hit5:.3f}" if base else "-",
                f"{base.mrr10:.3f}" if base else "-",
                f"{mine_answerable.hit1:.3f}",
                f"{base_answerable.hit1:.3f}" if base_answerable else "-",
                f"≥ {target:.2f}" if target else "-",
                "yes" if target and mine_answerable.hit1 >= target else "no",
                f"{ours_s:.0f}s",
            ]
            + ([f"{pg.hit1:.3f}", f"{pg.mrr10:.3f}"] if pg else [])
        )
        print(
            f"{name}: hit@1 {mine.hit1:.3f}" + (f" (tutorial {base.hit1:.3f})" if base else ""),
            flush=True,
        )
    print()
    print(
        table(
            [
                "set",
                "questions",
                "hit@1",
                "hit@5",
                "MRR@10",
                "tutorial hit@1",
                "tutorial hit@5",
                "tutorial MRR@10",
                "hit@1 answerable",
                "tutorial hit@1 answerable",
                "target hit@1",
                "met",
                "ours took",
            ]
            + (["hit@1 on PostgreSQL", "MRR@10 on PostgreSQL"] if catalog_for else []),
            rows,
        )
    )


if __name__ == "__main__":
    main()
