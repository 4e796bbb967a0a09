"""Tokens for the keyword index, in any language.

Words for scripts that put spaces between them; overlapping character bigrams for Chinese,
Japanese and Korean, which do not (the CJK analyzer approach: no dictionary, works for all three).
Malay passages and questions are indexed and searched by the roots of their words
(knowledge.malay); English ones are stemmed by SQLite's porter tokenizer.
"""

from __future__ import annotations

import re
import unicodedata

from knowledge.language import QueryLanguage, query_language
from knowledge.malay import malay_root, malay_roots
from knowledge.scripts import CJK_RUN

_WORD = re.compile(r"\w+", re.UNICODE)

# Words too common to help ranking, in English and Malay: dropping them keeps queries fast.
# fmt: off
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "he", "her",
    "his", "i", "in", "is", "it", "its", "of", "on", "or", "our", "she", "so", "that", "the",
    "their", "them", "there", "these", "they", "this", "to", "was", "we", "were", "what",
    "when", "where", "which", "who", "will", "with", "you", "your", "do", "does", "did", "can",
    "could", "would", "should", "how", "why", "about", "into", "than", "then", "also", "not",
    "no", "yang", "dan", "di", "ke", "dari", "untuk", "ini", "itu", "dengan", "ada", "pada",
    "adalah", "atau", "akan", "oleh", "juga", "saya", "kami", "kita", "anda", "ia", "mereka",
    "dalam", "tidak", "boleh", "apa", "bagaimana", "mengapa", "bila",
))
# fmt: on

# Words that say a question is being asked, not what it is about. Left out of keyword queries
# only (a passage may well use them): in BM25 they still favour passages that happen to hold
# them. Malay questions carry many (machine-translated SQuAD: "Apakah nama album ketiga
# Queen?"); on squad-ms-dev, dropping these took hit@1 from 0.654 to 0.683.
# fmt: off
QUESTION_WORDS = frozenset((
    "apakah", "siapa", "siapakah", "bilakah", "manakah", "berapa", "berapakah", "adakah",
    "mana", "kenapa", "macam", "nama", "jenis", "beberapa", "pernah", "lain", "sahaja",
    "hanya", "lagi", "sebuah", "seorang", "para", "telah", "sudah", "tersebut", "iaitu",
    "ialah", "merupakan", "antara", "bagi", "kerana", "sebagai",
    # How a follow-up leans on the question before ("kalau SUV?", "Tingkatan 4 pula?", "what
    # if it's 11pm?"): a passage never holds them, and counted, they halved its share found.
    "kalau", "kalo", "klu", "jika", "sekiranya", "pula", "pulak", "if",
    # What is left of a contraction ("it's", "what's", "can't"): no subject of its own.
    "s", "t", "d", "ll", "m", "re", "ve",
))
# fmt: on


# Chinese question words: their character pairs, and the pairs they form with the words beside
# them ("铜管多少钱" gives 管多, 多少, 少钱), are in no passage, so a question's share found in a
# passage counts them out (knowledge.relevance; the extract). Not used by search ranking.
_CJK_QUESTION_WORDS = re.compile(
    r"多少钱|多少|多久|多长时间|多长|什么时候|什么|怎么样|怎么|怎样|如何|哪里|哪儿|哪些|哪个|"
    r"是不是|是否|有没有|能不能|可不可以|可以吗|吗|呢|请问"
)


def without_question_words(text: str) -> str:
    """`text` with Chinese question words blanked out (a space between what they joined)."""
    return _CJK_QUESTION_WORDS.sub(" ", text)


def index_terms(text: str, language: str) -> list[str]:
    """The tokens a passage is keyword-indexed under; `language` is its text_language()."""
    tokens = tokenize(text)
    return malay_roots(tokens) if language == QueryLanguage.OTHER else tokens


def query_terms(query: str, limit: int = 64, language: QueryLanguage | None = None) -> list[str]:
    """The distinct tokens of a question worth searching for, in order; `language` is the
    question's where the caller knows it (knowledge.query)."""
    words = [t for t in tokenize(query) if t not in QUESTION_WORDS]
    if (language or query_language(query)) is QueryLanguage.OTHER:
        # The roots find Malay passages; the words as written find the rest (an English
        # passage holds "berlin", which Sastrawi would cut to "lin").
        words = [term for word in words for term in (malay_root(word), word)]
    return list(dict.fromkeys(words))[:limit]


def tokenize(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    position = 0
    for run in CJK_RUN.finditer(text):
        tokens.extend(_words(text[position : run.start()]))
        chars = run.group(0)
        if len(chars) == 1:
            tokens.append(chars)
        else:
            tokens.extend(chars[i : i + 2] for i in range(len(chars) - 1))
        position = run.end()
    tokens.extend(_words(text[position:]))
    return tokens


def _words(text: str) -> list[str]:
    # Words as written: English is stemmed by SQLite's porter tokenizer, Malay passages by
    # index_terms() (dictionary-checked roots; stripping affixes by rule alone lowered hit@1).
    return [w for w in _WORD.findall(text) if w not in STOPWORDS and w != "_"]
