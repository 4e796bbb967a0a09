"""Photos and scans as image files (PNG, JPEG, WebP): a photo of a price board, a scanned form,
read by OCR in the bot's languages. Without Tesseract they are turned away with the reason."""

from __future__ import annotations

import io
import warnings

from knowledge.documents import LoadedDocument
from knowledge.errors import RejectedFile
from knowledge.loaders.textblocks import text_blocks

# Larger images are refused before they are decoded: a decompression bomb, or a poster scanned
# at a resolution no page needs (an A4 page at 300 dpi is 8.7 megapixels).
MAX_PIXELS = 60_000_000
_NO_OCR = (
    "images are read by OCR, which is off here (Tesseract is not installed, or ingest.ocr is off)"
)


def load_image(data: bytes, ocr_languages: str) -> LoadedDocument:
    from PIL import Image, UnidentifiedImageError

    from knowledge.ocr import read, usable

    ocr_languages = usable(ocr_languages)
    if not ocr_languages:
        raise RejectedFile(_NO_OCR)
    try:
        with warnings.catch_warnings():  # (its size is checked just below, before decoding)
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:  # checked before any pixel is decoded
            raise RejectedFile(
                f"the image is {image.width * image.height / 1e6:.0f} megapixels, over the"
                f" limit of {MAX_PIXELS / 1e6:.0f}"
            )
        image.load()
    except RejectedFile:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own check, at open: far too big
        raise RejectedFile(
            f"the image is over {MAX_PIXELS / 1e6:.0f} megapixels, the limit"
        ) from exc
    except UnidentifiedImageError as exc:
        raise RejectedFile(
            "the file is not an image this can read (JPEG, PNG, TIFF, WebP, BMP or GIF)"
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged
        raise RejectedFile("the image is damaged or cut short") from exc
    reading = read(image, ocr_languages)
    if not reading.text.strip():
        raise RejectedFile("OCR found no text in the image")
    if not reading.trusted:
        raise RejectedFile(
            f"OCR could not read the image reliably (confidence {reading.confidence:.0f}%):"
            " a sharper, straighter photo may do"
        )
    blocks = list(text_blocks(reading.text, None))
    if not blocks:
        raise RejectedFile("OCR found no text in the image")
    return LoadedDocument(
        blocks=blocks, notes=[f"read by OCR ({ocr_languages}): check the figures in its answers"]
    )
