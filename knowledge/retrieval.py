"""Hybrid retrieval: dense and keyword rankings fused by weighted reciprocal rank.

Reciprocal-rank fusion needs no score calibration between the two retrievers, which matters
because cosine similarities and BM25 scores live on unrelated scales. The weights shift toward
keywords for text the embedding model barely reads (CJK scripts); see bench/ for the figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class FusionSettings:
    candidates: int = 50
    rrf_k: int = 60
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    # For queries mostly in CJK script, where all-MiniLM-L6-v2's vectors are close to noise.
    cjk_dense_weight: float = 0.2


def cjk_share(text: str) -> float:
    letters = [c for c in text if c.isalnum()]
    return len(_CJK.findall(text)) / len(letters) if letters else 0.0


def fuse(
    query: str,
    dense: list[tuple[str, float]],
    keyword: list[tuple[str, float]],
    settings: FusionSettings,
) -> list[tuple[str, float]]:
    """Chunk ids with fused scores, best first."""
    dense_weight = settings.dense_weight
    if cjk_share(query) > 0.5:
        dense_weight = settings.cjk_dense_weight
    scores: dict[str, float] = {}
    for weight, ranking in ((dense_weight, dense), (settings.keyword_weight, keyword)):
        for rank, (chunk_id, _) in enumerate(ranking):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (settings.rrf_k + rank + 1)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)
