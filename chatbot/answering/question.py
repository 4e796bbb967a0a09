"""A customer's message, read once: what every step of the answer reads of it.

The chat API (to tell the page which language to wait in), the chain (small talk, follow-ups,
the reply's language), the search (the dense ranking's weight, the boost for the customer's
language, Malay roots, keyword terms), the relevance check and the extract each used to work
out the message's language and terms again from whatever text they were handed: four times on
the way from the chat API to the index, and a follow-up searched with the question before it was
then taken for that question's language. The message is read here once, where it arrives,
and the `Question` is carried to every step.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatbot.answering.smalltalk import SmallTalk
from knowledge.query import Query


@dataclass(frozen=True, slots=True)
class Question:
    text: str  # as the customer typed it: what is kept and shown
    # In the documents' spellings ("brp harga utk saga?" as "berapa harga untuk saga?"), a
    # misspelling of the documents' own words made that word: what is searched and matched.
    query: Query
    language: str  # the answer's: en, ms, zh... (the bot's first where it does not speak it)
    follows: Query | None  # the earlier question this one follows up on ("and for Myvi?")
    talk: SmallTalk | None  # a greeting, thanks, a request for a person: not a question

    @property
    def asked(self) -> str:
        return self.query.text
