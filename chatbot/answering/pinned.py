"""Pinned answers: what staff wrote once for a question the bot could not answer well.

They live in the knowledge base as an FAQ document of their own (PINNED_SOURCE), so they are
searchable at once, ranked by question and keywords like any FAQ entry; and when the best match
for a customer's question is a pinned entry asked the same way, the chain gives the staff's
answer as written, without the model: it is what the business wants said.
"""

from __future__ import annotations

from knowledge.documents import Hit

PINNED_SOURCE = "pinned-answers"
# The cosine between the customer's question and the pinned one for the answer to be given as
# written; a rewording that close asks the same thing (the same question in another script or
# with other words falls to the normal answer, which still sees the pinned entry first).
SAME_QUESTION = 0.85


def pinned_answer(hit: Hit) -> str | None:
    """The staff's answer when `hit` is a pinned entry asked the same way, else None."""
    if hit.source != PINNED_SOURCE or hit.similarity is None or hit.similarity < SAME_QUESTION:
        return None
    _, _, answer = hit.text.partition("\n")
    return answer.strip() or None
