"""OCR: character accuracy and pages per second on pages rendered from known text in English,
Malay and Chinese (the first documents of ../shared/eval's test sets: clapnq-en, squad-ms,
cmrc-zh), scanned (300 dpi) and photographed
(turned, soft, 150 dpi, JPEG), read by our OCR (knowledge/ocr.py: the bot's language, one
thread, the page prepared) against Tesseract as it comes (its default English, its own threads).

    python -m bench.ocr            # make bench-ocr

Targets (#19): at least 97% for English and Malay, 90% for Chinese."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from bench.common import table
from bench.rendered_pages import page_image, photographed
from knowledge.ocr import read, tesseract_languages

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
SETS = {"en": "clapnq-en-test", "ms": "squad-ms-test", "zh": "cmrc-zh-test"}
PAGES = 8  # per language
TARGETS = {"en": 0.97, "ms": 0.97, "zh": 0.90}


def texts() -> dict[str, list[str]]:
    """Each language's first documents, a page each (at most 1,200 characters, 600 Chinese)."""
    pages: dict[str, list[str]] = {}
    for language, name in SETS.items():
        budget = 600 if language == "zh" else 1200
        with (EVAL / name / "docs.jsonl").open(encoding="utf-8") as f:
            docs = [json.loads(line)["text"] for line in f if line.strip()]
        pages[language] = [
            d[:budget].rsplit(" " if language != "zh" else "。", 1)[0] for d in docs[:PAGES]
        ]
    return pages


def _comparable(text: str, language: str) -> str:
    text = text.replace("“", '"').replace("”", '"').replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", "" if language == "zh" else " ", text).strip()


def accuracy(reference: str, read_text: str, language: str) -> float:
    """1 - edit distance / length, on the text with its spacing made comparable."""
    from rapidfuzz.distance import Levenshtein

    ref, got = _comparable(reference, language), _comparable(read_text, language)
    return max(0.0, 1 - Levenshtein.distance(ref, got) / max(len(ref), 1))


def tesseract_as_it_comes(image: object) -> str:
    import pytesseract

    env = os.environ.pop("OMP_THREAD_LIMIT", None)
    try:
        return str(pytesseract.image_to_string(image))
    finally:
        if env is not None:
            os.environ["OMP_THREAD_LIMIT"] = env


def main() -> None:
    if not tesseract_languages(["en"]):
        raise SystemExit(
            "Tesseract is not installed: make test installs it (see docs/KNOWLEDGE.md)"
        )
    rows = []
    by_language = texts()
    for language, pages in by_language.items():
        ours_languages = tesseract_languages([language])
        for condition in ("scan 300 dpi", "photo"):
            images = [page_image(t, language) for t in pages]
            if condition == "photo":
                images = [photographed(p, n) for n, p in enumerate(images)]
            for who in ("Tesseract as it comes", "ours"):
                scores, began = [], time.perf_counter()
                for text, image in zip(pages, images, strict=True):
                    got = (
                        read(image, ours_languages).text
                        if who == "ours"
                        else tesseract_as_it_comes(image)
                    )
                    scores.append(accuracy(text, got, language))
                seconds = time.perf_counter() - began
                mean = sum(scores) / len(scores)
                target = TARGETS[language]
                verdict = ("met" if mean >= target else "MISSED") + f" (≥{target:.0%})"
                rows.append([
                    language, condition, who, str(len(pages)), f"{mean:.1%}",
                    f"{len(pages) / seconds:.2f}", verdict if who == "ours" else "",
                ])  # fmt: skip
    print(
        table(["language", "pages", "reader", "n", "characters right", "pages/s", "target"], rows)
    )


if __name__ == "__main__":
    main()
