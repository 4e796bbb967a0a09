"""Hybrid retrieval: dense and keyword rankings fused by weighted reciprocal rank.

Reciprocal-rank fusion needs no calibration between the two retrievers, which matters because
cosine similarities and BM25 scores live on unrelated scales. The dense ranking's weight depends
on the query's language: the default embedding model (all-MiniLM-L6-v2) was trained on English
and reads Malay, Chinese and most other languages poorly, where keywords must carry the search.
The weights come from the -dev question sets (bench/tune.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.language import QueryLanguage


@dataclass(frozen=True, slots=True)
class FusionSettings:
    # Tuned on the -dev sets (bench/tune.py). For Malay and CJK queries the dense ranking only
    # breaks ties and orders what keywords do not find: there it lowered hit@1 at any weight.
    candidates: int = 50
    rrf_k: int = 10
    keyword_weight: float = 1.0
    dense_weight: float = 3.0  # English (and queries with no telling words)
    other_dense_weight: float = 0.01  # Malay and other languages in Latin script
    cjk_dense_weight: float = 0.01  # Chinese, Japanese, Korean
    # An FAQ entry's question has a vector of its own, ranked apart from the passages and
    # weighted this many times the language's dense weight: a customer's question is closest to
    # the FAQ's question, and merging the two rankings hid that (covidfaq-en-dev hit@1 0.680
    # merged, 0.713 apart at 2x).
    faq_question_factor: float = 2.0
    # ...but only FAQ questions at least this close to the customer's count: in a small
    # knowledge base every FAQ entry is among the candidates, and without a floor each got a
    # bonus over a better passage of a price list just for being an FAQ entry.
    faq_question_min_similarity: float = 0.5
    # A passage in the question's language scores this much higher: in a bilingual FAQ the
    # customer's own language wins a near tie, never over a clearly better match. Near the top
    # of a ranking, neighbouring fused scores differ by 5-9% (1/(rrf_k + rank)), so this must
    # stay below that: at 0.2, a Malay delivery note at keyword rank 2 beat the bilingual price
    # list at rank 1 for "Berapa harga menukar skrin?" (the demo shop).
    same_language_boost: float = 0.05

    def dense_weight_for(self, language: QueryLanguage) -> float:
        match language:
            case QueryLanguage.CJK:
                return self.cjk_dense_weight
            case QueryLanguage.OTHER:
                return self.other_dense_weight
            case _:
                return self.dense_weight


Ranking = list[tuple[str, float]]  # (chunk id, the retriever's own score), best first


@dataclass(frozen=True, slots=True)
class Candidates:
    """Each retriever's ranking of chunk ids for one query, before fusion."""

    passages: Ranking  # embedding search over the passages
    faq_questions: Ranking  # embedding search over FAQ entries' questions alone
    keywords: Ranking  # BM25


def fuse(
    language: QueryLanguage, candidates: Candidates, settings: FusionSettings
) -> list[tuple[str, float]]:
    """Chunk ids with fused scores, best first; `language` is the question's."""
    scores: dict[str, float] = {}
    dense_weight = settings.dense_weight_for(language)
    weighted = (
        (dense_weight, candidates.passages),
        (
            dense_weight * settings.faq_question_factor,
            [c for c in candidates.faq_questions if c[1] >= settings.faq_question_min_similarity],
        ),
        (settings.keyword_weight, candidates.keywords),
    )
    for weight, ranking in weighted:
        for rank, (chunk_id, _) in enumerate(ranking):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (settings.rrf_k + rank + 1)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)
