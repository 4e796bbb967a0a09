"""Whether retrieved passages are about the question at all, so the bot can say "I don't know".

Fused ranks say which passage is best, not whether the best is any good. Two signals that do:
the embedding's cosine similarity, and the share of the question's content words (Chinese:
character pairs) that the passage contains (`Query.coverage`). The similarity counts for
English questions only: the default model reads Malay and Chinese so poorly that unrelated
texts in those languages still score high. Either signal passing its threshold is enough.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.documents import Hit
from knowledge.language import QueryLanguage
from knowledge.query import Query


@dataclass(frozen=True, slots=True)
class RelevanceSettings:
    min_similarity: float = 0.45
    min_coverage: float = 0.5


def is_relevant(query: Query, hit: Hit, settings: RelevanceSettings) -> bool:
    english = query.language is QueryLanguage.ENGLISH
    if english and hit.similarity is not None and hit.similarity >= settings.min_similarity:
        return True
    return query.coverage(f"{hit.section}\n{hit.text}") >= settings.min_coverage
