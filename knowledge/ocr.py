"""Text from scans and photos with Tesseract (Debian's tesseract-ocr and its language data),
through pytesseract. Runs inside the parse worker, under its time and memory limits.

Each image is read in the languages the bot answers in; a page Tesseract is not confident of is
left out and said so, since a misread price in the knowledge base is a wrong answer to come."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Tesseract's language data by the languages a bot answers in (ISO 639-1, as BotProfile has).
TESSERACT_LANGUAGES = {
    "en": ("eng",),
    "ms": ("msa",),
    "zh": ("chi_sim", "chi_tra"),
    "ja": ("jpn",),
    "ko": ("kor",),
}
DEFAULT_LANGUAGES = ("en", "ms", "zh")  # a bot that names none: the languages of our shops
# Below this mean word confidence (0-100) a page's text is more misreading than reading.
MIN_CONFIDENCE = 60.0
_LONG_SIDE = 2400
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_HAN = re.compile("[\u4e00-\u9fff]")
# Tesseract spaces Chinese characters apart, and from the digits and letters beside them
# ("收费 RM150"), which Chinese writes together.
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])[ \t]+|[ \t]+(?=[{_CJK}])")


@functools.cache
def installed_languages() -> frozenset[str]:
    """The language data Tesseract has here; empty when Tesseract itself is missing."""
    try:
        import pytesseract

        return frozenset(pytesseract.get_languages(config=""))
    except Exception:  # not installed, not on PATH, or it fails to start
        return frozenset()


def tesseract_languages(answer_languages: Sequence[str]) -> str:
    """The `-l` argument for a bot's languages, of the data installed ("eng+msa"); empty when
    Tesseract or all of that data is missing (OCR is then off, and scans are turned away)."""
    return usable(wanted_languages(answer_languages))


def wanted_languages(answer_languages: Sequence[str]) -> str:
    """Tesseract's names of a bot's languages ("eng+msa"), whether or not they are installed:
    what an ingest asks the loaders for. They keep what is installed (`usable`) only when a
    page or photo is to be read, since asking Tesseract costs half a second of every upload,
    and most uploads hold no scan."""
    wanted = [
        t
        for lang in answer_languages or DEFAULT_LANGUAGES
        for t in TESSERACT_LANGUAGES.get(lang, ())
    ]
    return "+".join(dict.fromkeys(wanted))


def usable(languages: str) -> str:
    """Those of `languages` ("eng+msa") whose data Tesseract has here; empty: no OCR."""
    if not languages:
        return ""
    have = installed_languages()
    return "+".join(t for t in languages.split("+") if t in have)


@dataclass(frozen=True, slots=True)
class Reading:
    text: str
    confidence: float  # mean word confidence, 0-100; 0 when no word was found

    @property
    def trusted(self) -> bool:
        return bool(self.text.strip()) and self.confidence >= MIN_CONFIDENCE


def prepared(image: Any) -> Any:
    """An image as Tesseract reads it best: upright (a phone photo's EXIF orientation), grey,
    and with letters tall enough (a small photo enlarged)."""
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image).convert("L")
    # Enlarged to an A4 page at about 200 dpi: Chinese characters smaller than that are misread
    # (a phone photo at 1,240 px: 94% of characters right, enlarged to 2,400: 97%, measured on
    # cmrc-zh-dev; English and Malay unchanged at 99%).
    if max(image.size) < _LONG_SIDE:
        factor = _LONG_SIDE / max(image.size)
        image = image.resize((round(image.width * factor), round(image.height * factor)))
    return image


def read(image: Any, languages: str, timeout_s: float = 120.0) -> Reading:
    """The text of one image (a page or a photo) in `languages` ("eng+msa"), which the caller
    has from tesseract_languages (empty there means no OCR, and no call here)."""
    page = prepared(image)
    codes = languages.split("+")
    if not {"chi_sim", "chi_tra"} <= set(codes):
        return _read(page, languages, timeout_s)
    # Simplified and traditional Chinese one at a time, the more confident kept: together they
    # misread each other's characters (a simplified page 86% right with both, 100% alone;
    # a traditional one 89% against 95%; measured on photos of known text).
    simplified = _read(page, "+".join(c for c in codes if c != "chi_tra"), timeout_s)
    if not _HAN.search(simplified.text):  # no Chinese on the page: the choice makes no odds
        return simplified
    traditional = _read(page, "+".join(c for c in codes if c != "chi_sim"), timeout_s)
    return max(simplified, traditional, key=lambda r: r.confidence)


def _read(page: Any, languages: str, timeout_s: float) -> Reading:
    import pytesseract

    # One thread: Tesseract's OpenMP threads fight over the cores (4.3 s a page against 1.1 s
    # with one, measured here), and the server's customers need them too.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    data = pytesseract.image_to_data(
        page,
        lang=languages,
        config="--psm 3",
        timeout=timeout_s,
        output_type=pytesseract.Output.DICT,
    )
    lines: dict[tuple[int, int, int], list[str]] = {}
    confidences = []
    for word, conf, *where in zip(
        data["text"],
        data["conf"],
        data["block_num"],
        data["par_num"],
        data["line_num"],
        strict=True,
    ):
        if word.strip() and float(conf) >= 0:
            lines.setdefault(tuple(where), []).append(word)  # type: ignore[arg-type]
            confidences.append(float(conf))
    paragraphs: dict[tuple[int, int], list[str]] = {}
    for (block, par, _), words in lines.items():
        paragraphs.setdefault((block, par), []).append(" ".join(words))
    text = "\n\n".join("\n".join(found) for found in paragraphs.values())
    text = _CJK_GAP.sub("", text)
    confidence = sum(confidences) / len(confidences) if confidences else 0.0
    return Reading(text, round(confidence, 1))
