"""Which language group a question or passage is in: English, Chinese/Japanese/Korean, or other.

Search weighs its two rankings by the question's language (see knowledge.retrieval) and the bot
answers in it, so a Malay question taken for English is both searched badly and answered in the
wrong language. Short questions have few words to go on, so the signal is the words that every
sentence of a language uses: function words, question words and the everyday words customers
write. Names and titles quoted in a question ("Berapa lama lagu March of the Black Queen?") are
not evidence of English: English function words inside a run of capitalised words, or
capitalised in mid-sentence, are not counted.
"""

from __future__ import annotations

import re
from enum import StrEnum

from knowledge.scripts import CJK_CHAR

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?:;]\s*$")

# fmt: off
ENGLISH_WORDS = frozenset((
    "the", "a", "an", "is", "are", "was", "were", "what", "which", "who", "whom", "whose",
    "when", "where", "why", "how", "do", "does", "did", "can", "could", "will", "would",
    "should", "of", "to", "in", "on", "for", "with", "from", "by", "at", "my", "your", "i",
    "you", "we", "they", "it", "this", "that", "there", "have", "has", "had", "be", "been",
    "not", "or", "and", "any", "much", "many",
))
MALAY_WORDS = frozenset((
    # question words
    "apa", "apakah", "siapa", "siapakah", "bila", "bilakah", "berapa", "berapakah", "seberapa",
    "mengapa", "kenapa", "bagaimana", "bagaimanakah", "adakah", "manakah", "mana", "dimana",
    "macam", "sebanyak",
    # function words
    "di", "ke", "dari", "daripada", "yang", "dan", "ini", "itu", "untuk", "dengan", "pada",
    "boleh", "ada", "tidak", "tak", "saya", "aku", "kami", "kita", "anda", "awak", "mereka",
    "dia", "ia", "dalam", "oleh", "sebagai", "telah", "sudah", "akan", "juga", "atau", "kepada",
    "adalah", "ialah", "merupakan", "iaitu", "sebuah", "seorang", "semua", "selepas",
    "sebelum", "semasa", "ketika", "kerana", "tetapi", "jika", "kalau", "bukan", "belum",
    "pernah", "masih", "paling", "lebih", "sangat", "banyak", "sahaja", "hanya", "lagi",
    "antara", "bagi", "hingga", "sehingga", "sejak", "tentang", "mengenai", "terhadap",
    "tersebut", "beberapa", "setiap", "nak", "mahu", "perlu", "tolong",
    # everyday words of the questions customers ask
    "tahun", "hari", "bulan", "minggu", "nama", "negara", "orang", "lama", "baru", "pertama",
    "harga", "kedai", "buka", "tutup", "hantar", "penghantaran", "bayar", "bayaran",
    "pembayaran", "pesanan", "tempahan", "barang", "waktu", "masa", "pukul", "alamat",
    "percuma", "terima", "kasih", "cara", "wang", "pulangan", "baiki", "pembaikan", "jaminan",
    "cawangan", "hubungi",
    # what a follow-up names alone: "Sabtu pula?", "Tingkatan 4 pula?", "Isnin?"
    "pula", "pulak", "isnin", "selasa", "rabu", "khamis", "jumaat", "sabtu", "ahad",
    "tingkatan", "darjah",
))
# fmt: on


class QueryLanguage(StrEnum):
    ENGLISH = "en"
    CJK = "cjk"
    OTHER = "other"


def script_counts(text: str) -> tuple[int, int]:
    """(CJK characters, words in other scripts) of `text`; numbers count as neither."""
    return len(CJK_CHAR.findall(text)), len(_WORD.findall(CJK_CHAR.sub(" ", text)))


def query_language(text: str) -> QueryLanguage:
    # Chinese words against words in other scripts, a Chinese word being about two characters.
    # Counted by letters instead, a Chinese sentence naming a product or street in Latin
    # letters ("iPhone 13 换电池多少钱？", "我们的店在乔治市 23 Lebuh Chulia。") was English.
    cjk, other_words = script_counts(text)
    if cjk and cjk / 2 > other_words:
        return QueryLanguage.CJK
    english = other = 0
    words = list(_WORD.finditer(text))
    for index, match in enumerate(words):
        word = match.group(0).lower()
        if word in MALAY_WORDS:
            other += 1
        elif word in ENGLISH_WORDS and not _in_a_name(text, words, index):
            english += 1
    return QueryLanguage.OTHER if other > english else QueryLanguage.ENGLISH


def text_language(text: str) -> str:
    """The language group of a passage, stored so that search can prefer the customer's."""
    return query_language(text).value


def _starts_sentence(text: str, words: list[re.Match[str]], index: int) -> bool:
    if index == 0:
        return True
    between = text[words[index - 1].end() : words[index].start()]
    return bool(_SENTENCE_END.search(between))


def _capitalised(word: str) -> bool:
    return word[:1].isupper()


def _in_a_name(text: str, words: list[re.Match[str]], index: int) -> bool:
    """Whether the English function word at `index` belongs to a quoted name or title."""
    if _starts_sentence(text, words, index):
        return False
    if _capitalised(words[index].group(0)):  # "The Miracle", "A Night at the Opera"
        return True
    return _capitalised(_neighbour(words, index, -1)) and _capitalised(_neighbour(words, index, 1))


def _neighbour(words: list[re.Match[str]], index: int, step: int) -> str:
    """The nearest word before (step -1) or after (step 1) `index` that is not an English
    function word; "" at either end."""
    index += step
    while 0 <= index < len(words):
        word = words[index].group(0)
        if word.lower() not in ENGLISH_WORDS:
            return word
        index += step
    return ""
