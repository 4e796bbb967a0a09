"""Whether a message follows up on the one before it, or stands on its own.

Only a real follow-up is read with the conversation: "and for 2.5 HP?", "那2.5匹的呢？",
"what about water heaters?", "bagaimana pula dengan hari Sabtu?". A message that names its own
subject ("Adakah kedai buka pada hari Ahad?") is searched on its own: glued to the English
question before it, it matched neither. Told by its words, not by a model: the embedded model
cannot tell, and the rule is the same with every backend.
"""

from __future__ import annotations

import re

from knowledge.keywords import query_terms
from knowledge.scripts import CJK_CHAR

# Openings that lean on what was said before, in English, Malay and Chinese.
_LEADS = re.compile(
    r"^\s*(?:and|or|but|also|so|then|what about|how about|what if|same for|dan|atau|tapi|"
    r"juga|bagaimana pula|bagaimana dengan|macam mana dengan|kalau|jika|"
    r"那么|那|还有|另外|至于|如果|要是)(?:\b|(?<=[\u4e00-\u9fff]))",
    re.IGNORECASE,
)
# Openings that lean on it only in a short message: "for 2.5 HP?", "on Saturday?".
_SHORT_LEADS = re.compile(
    r"^\s*(?:for|in|on|at|with|without|untuk|pada|dengan|和|跟)(?:\b|(?<=[\u4e00-\u9fff]))",
    re.IGNORECASE,
)
# Openings of a question that states its own subject ("Do you sell laptops?").
_ASKS = re.compile(
    r"^\s*(?:what|how|do|does|did|can|could|is|are|was|where|when|which|who|why|will|would|"
    r"should|may|berapa|berapakah|adakah|apakah|bila|bilakah|di mana|boleh|bolehkah|ada|"
    r"mengapa|kenapa|你们|你|请问|什么|怎么|多少|哪|是否|有没有)(?:\b|(?<=[\u4e00-\u9fff]))",
    re.IGNORECASE,
)
# Words that point back at a thing named before: "is it waterproof?", "berapa harganya?";
# a closing "pula" ("2.5 HP pula?") as a closing 呢 ("那2.5匹的呢？").
_POINTERS = re.compile(
    r"\b(?:it|its|that|this|those|these|them|they|one|ones|itu|ini|tersebut)\b|"
    r"\w{3,}nya\b|它|这个|那个|这些|那些|呢\s*[？?]?\s*$|\bpula(?:k)?\s*[？?]?\s*$",
    re.IGNORECASE,
)
_FEW_TERMS = 2  # "Saturday?" or "2.5 HP?" names no subject of its own
_SHORT = 5  # words


def is_follow_up(message: str) -> bool:
    """True when `message` cannot be understood without the message before it."""
    text = message.strip()
    if not text:
        return False
    if _LEADS.match(text):
        return True
    words = len(text.split())
    if _SHORT_LEADS.match(text) and words <= _SHORT:
        return True
    terms = query_terms(text)
    points_back = _POINTERS.search(text) is not None
    if CJK_CHAR.search(text) and " " not in text.strip():
        # Character pairs: a Chinese message of a few characters names little of its own.
        return (len(terms) <= _FEW_TERMS or points_back) and not _ASKS.match(text)
    if _ASKS.match(text):
        return points_back and len(terms) <= _FEW_TERMS + 1
    return len(terms) <= _FEW_TERMS or (points_back and len(terms) <= _FEW_TERMS + 1)
