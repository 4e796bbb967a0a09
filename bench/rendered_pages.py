"""Pages rendered from known text, as a scanner or a phone camera would give them: for measuring
OCR (bench/ocr.py) and for the tests of scans and photos (tests/test_ocr.py). The fonts are
Debian's (fonts-dejavu-core, fonts-wqy-microhei), installed by `make test` with Tesseract."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

FONTS = {
    "latin": Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    "zh": Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
}
A4_INCHES = (8.27, 11.69)


def _font(language: str, pixels: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(FONTS["zh" if language == "zh" else "latin"]), pixels)


def _wrapped(text: str, font: Any, width: int, language: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        units = list(paragraph) if language == "zh" else paragraph.split()
        joiner = "" if language == "zh" else " "
        line = ""
        for unit in units:
            trial = f"{line}{joiner}{unit}" if line else unit
            if font.getlength(trial) > width and line:
                lines.append(line)
                line = unit
            else:
                line = trial
        lines.append(line)
    return lines


def page_image(text: str, language: str, dpi: int = 300, points: float = 12) -> Any:
    """An A4 page of `text` (paragraphs by newline) in a 12-point font at `dpi`, grey on white."""
    from PIL import Image, ImageDraw

    size = (round(A4_INCHES[0] * dpi), round(A4_INCHES[1] * dpi))
    page = Image.new("L", size, 255)
    draw = ImageDraw.Draw(page)
    font = _font(language, round(points * dpi / 72))
    margin = dpi  # one inch
    y = margin
    step = round(points * dpi / 72 * 1.5)
    for line in _wrapped(text, font, size[0] - 2 * margin, language):
        draw.text((margin, y), line, font=font, fill=20)
        y += step
        if y > size[1] - margin:
            break
    return page


def photographed(page: Any, seed: int = 0) -> Any:
    """The page as a phone photo of it: a little turned, soft, half the resolution, JPEG."""
    from PIL import Image, ImageFilter

    turned = page.rotate(1.5 + seed % 2 * 0.5, expand=True, fillcolor=235, resample=Image.BICUBIC)
    small = turned.resize((turned.width // 2, turned.height // 2), Image.LANCZOS)
    soft = small.filter(ImageFilter.GaussianBlur(0.8))
    out = io.BytesIO()
    soft.convert("RGB").save(out, "JPEG", quality=70)
    return Image.open(io.BytesIO(out.getvalue()))


def scanned_pdf(pages: list[Any], dpi: int = 300) -> bytes:
    """A PDF of page images and nothing else: what a scanner's "scan to PDF" writes."""
    out = io.BytesIO()
    first, *rest = [p.convert("RGB") for p in pages]
    first.save(out, "PDF", resolution=dpi, save_all=True, append_images=rest)
    return out.getvalue()


def image_bytes(image: Any, fmt: str) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, fmt)
    return out.getvalue()
