"""Tune fusion on the -dev splits: index once, cache both rankings, try many settings.

    python -m bench.tune [--sets clapnq-en-dev ...]

Never run on -test splits: those are for reporting (bench.retrieval).
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import tempfile
from pathlib import Path

from bench.common import SHARED, quiet_libraries, table
from bench.retrieval import RETRIEVE, ours, rank_of, read_set, score


def collect(name: str, cache: Path, split=None) -> list[tuple[str, str, list, list, dict]]:
    """Per question: (query, gold, candidates, chunk -> source)."""
    if cache.exists():
        return pickle.loads(cache.read_bytes())  # type: ignore[no-any-return]
    from knowledge.embeddings import SentenceEmbedder

    folder = SHARED / "eval" / name
    _, questions = read_set(folder)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ours(folder, Path(tmp), SentenceEmbedder(), split)
        from knowledge.base import KnowledgeBase  # the bases ours() built, reopened by name
        from knowledge.embeddings import SentenceEmbedder as E
        from knowledge.retrieval import FusionSettings
        from knowledge.vectors import open_chroma

        chroma = open_chroma(path=str(Path(tmp) / "chroma"))
        embedder = E()
        docs, _ = read_set(folder)
        bases = {
            c: KnowledgeBase(
                f"c{i}",
                Path(tmp) / f"c{i}",
                chroma,
                embedder,
                fusion=FusionSettings(candidates=100),
            )
            for i, c in enumerate(docs)
        }
        for collection, qs in questions.items():
            kb = bases[collection]
            for q in qs:
                found = kb.candidates(q["question"])
                ranked = found.passages + found.faq_questions + found.keywords
                sources = kb.sources_of([c for c, _ in ranked])
                rows.append((q["question"], q["doc_id"], found, sources))
    cache.write_bytes(pickle.dumps(rows))
    return rows


def main() -> None:
    quiet_libraries()
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", nargs="*")
    parser.add_argument("--split", default="180,240", help="target,max passage tokens")
    args = parser.parse_args()
    from knowledge.language import query_language
    from knowledge.retrieval import FusionSettings, fuse

    names = args.sets or sorted(
        p.name for p in (SHARED / "eval").iterdir() if p.name.endswith("-dev")
    )
    cache_dir = Path(tempfile.gettempdir()) / "chatbot-tune"
    cache_dir.mkdir(exist_ok=True)
    from knowledge.splitting import SplitSettings

    target, most = (int(x) for x in args.split.split(","))
    split = SplitSettings(target, most)
    data = {
        name: collect(name, cache_dir / f"{name}-{target}-{most}-v3.pkl", split)  # v3: Malay roots
        for name in names
    }
    grid = list(
        itertools.product(
            [0.5, 1.0, 2.0, 3.0], [0.01, 0.2, 0.5], [0.01, 0.2, 0.5], [10, 30], [1.0, 2.0, 3.0]
        )
    )
    rows = []
    for dense_w, cjk_w, other_w, rrf_k, faq_factor in grid:
        settings = FusionSettings(
            candidates=100,
            rrf_k=rrf_k,
            dense_weight=dense_w,
            keyword_weight=1.0,
            cjk_dense_weight=cjk_w,
            other_dense_weight=other_w,
            faq_question_factor=faq_factor,
        )
        cells = []
        for name in names:
            ranks = []
            for query, gold, found, sources in data[name]:
                fused = fuse(query_language(query), found, settings)[:RETRIEVE]
                ranks.append(rank_of(gold, [sources[c] for c, _ in fused if c in sources]))
            cells.append(score(ranks).hit1)
        rows.append(
            [
                f"{dense_w}",
                f"{cjk_w}",
                f"{other_w}",
                str(rrf_k),
                f"{faq_factor}",
                *[f"{c:.3f}" for c in cells],
                f"{sum(cells) / len(cells):.3f}",
            ]
        )

    def alone(rows: list, retriever: str) -> float:
        ranks = [
            rank_of(g, [s[c] for c, _ in getattr(f, retriever) if c in s]) for _, g, f, s in rows
        ]
        return score(ranks).hit1

    for name in names:  # each retriever alone, for reference
        d, k = alone(data[name], "passages"), alone(data[name], "keywords")
        print(f"{name}: dense alone hit@1 {d:.3f}, keyword alone {k:.3f}")
    rows.sort(key=lambda r: float(r[-1]), reverse=True)
    print(
        table(
            ["dense_w", "cjk_dense_w", "other_dense_w", "rrf_k", "faq_factor", *names, "mean"],
            rows[:20],
        )
    )


if __name__ == "__main__":
    main()
