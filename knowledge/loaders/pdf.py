"""PDF: text per page with pypdf, sections from the document outline; a page with no text layer
but an image (a scan), or whose text layer is garbage (fonts with no usable character map), is
rendered with pdfium and read by OCR when Tesseract is installed."""

from __future__ import annotations

import functools
import io
import logging
import re
from typing import Any

from knowledge.documents import Block, BlockKind, LoadedDocument, PartSink
from knowledge.errors import RejectedFile
from knowledge.loaders.pdf_tables import TableReader
from knowledge.loaders.textblocks import looks_garbled, text_blocks

log = logging.getLogger(__name__)


_PASSWORD = "the PDF is password-protected; save a copy without the password and upload that"


def _open(data: bytes) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        # strict=False lets pypdf rebuild a damaged cross-reference table instead of giving up.
        reader = PdfReader(io.BytesIO(data), strict=False)
        # Many "protected" PDFs only restrict copying and open with an empty password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise RejectedFile(_PASSWORD)
        _ = len(reader.pages)
    except RejectedFile:
        raise
    except FileNotDecryptedError as exc:
        raise RejectedFile(_PASSWORD) from exc
    except DependencyError as exc:  # pragma: no cover - cryptography is a dependency
        raise RejectedFile(f"the PDF uses encryption this install cannot read ({exc})") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        log.info("PDF unreadable: %s", _short(exc))
        raise RejectedFile(
            "the PDF is damaged beyond repair; open it and save or print it as a PDF again"
        ) from exc
    return reader


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def _outline_titles(reader: Any) -> dict[int, list[tuple[int, str]]]:
    """Outline entries by 1-based page: [(depth, title)], so pages know their section."""
    by_page: dict[int, list[tuple[int, str]]] = {}

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item) + 1
                title = str(item.title).strip()
            except Exception:  # a broken outline entry only loses a heading
                continue
            if title and page > 0:
                by_page.setdefault(page, []).append((depth, title))

    try:
        walk(reader.outline, 1)
    except Exception:  # outlines are optional; a broken one is ignored
        log.debug("PDF outline unreadable", exc_info=True)
    return by_page


# Pages read between two deliveries of early blocks (see `load_pdf`): often enough that embedding
# starts within seconds, rarely enough that the hand-over costs nothing.
_PAGES_PER_PART = 32

_LIGATURES = str.maketrans({"\ufb01": "fi", "\ufb02": "fl", "\ufb00": "ff", "\x00": ""})
_SPACES = re.compile(r"[ \t\u00a0]+")


_DIGITS = re.compile(r"\d+")
_REPEATABLE = 12  # characters: a shorter line ("Notes", "Price") may well recur by right


# Lines at a page's top and bottom where a letterhead and a footer stand; a line repeated in the
# body ("Setelah membuat penilaian risiko…" in every item of a press release) is content.
_HEAD_LINES, _FOOT_LINES = 6, 3


class _Repeats:
    """Lines at a page's top or bottom that repeat an earlier page's (a letterhead, a footer:
    "Page 2 of 3" is "Page 1 of 3" with other digits) are dropped there: read once, on the first
    page, they are not a passage of every page that outranks what the page says."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, lines: list[str]) -> list[str]:
        kept, found = [], set()
        edge = set(range(_HEAD_LINES)) | set(range(len(lines) - _FOOT_LINES, len(lines)))
        for index, line in enumerate(lines):
            if index not in edge:
                kept.append(line)
                continue
            key = _DIGITS.sub("#", " ".join(line.split()).casefold())
            if len(key) >= _REPEATABLE and key in self.seen:
                continue
            kept.append(line)
            found.add(key)
        self.seen |= found
        return kept


class _Scanner:
    """Renders the pages a text layer does not serve and reads them with Tesseract."""

    def __init__(self, data: bytes, languages: str) -> None:
        self.data, self._wanted = data, languages
        self.read: list[int] = []  # pages whose OCR text was kept
        self.unreadable: list[tuple[int, float]] = []  # (page, confidence): left out
        self.blank: list[int] = []  # pages where OCR found no text at all
        self._pdf: Any = None

    @functools.cached_property
    def languages(self) -> str:
        """The wanted languages Tesseract has data for, asked only once a page needs OCR."""
        from knowledge.ocr import usable

        return usable(self._wanted)

    def page_text(self, number: int) -> str | None:
        """The page's text by OCR; None when OCR is not trusted there (it is noted)."""
        from knowledge.ocr import read

        if self._pdf is None:
            import pypdfium2

            self._pdf = pypdfium2.PdfDocument(self.data)
        page = self._pdf[number - 1]
        width, height = page.get_size()  # points
        # 300 dpi, as Tesseract reads best, unless that makes a poster-sized image.
        scale = min(300 / 72, (20_000_000 / max(width * height, 1)) ** 0.5)
        image = page.render(scale=scale, grayscale=True).to_pil()
        reading = read(image, self.languages)
        if not reading.text.strip():
            self.blank.append(number)
            return None
        if not reading.trusted:
            self.unreadable.append((number, reading.confidence))
            return None
        self.read.append(number)
        return reading.text

    def notes(self) -> list[str]:
        notes = []
        if self.read:
            notes.append(
                f"{_pages(self.read)} read by OCR ({self.languages}): check the figures in"
                " its answers"
            )
        if self.unreadable:
            notes.append(
                f"{_pages([n for n, _ in self.unreadable])} could not be read reliably by OCR and"
                " were left out"
            )
        return notes


def _pages(numbers: list[int]) -> str:
    return f"page {numbers[0]}" if len(numbers) == 1 else f"{len(numbers)} pages"


def load_pdf(
    data: bytes, max_pages: int, on_part: PartSink | None = None, ocr_languages: str = ""
) -> LoadedDocument:
    """The PDF's blocks, page by page. `on_part` gets them early, a few dozen pages at a time
    (each page read by OCR at once, as that is slow), so that a long PDF's first pages can be
    embedded while the rest is still being read; the document returned is still the whole truth
    (it may yet be rejected as a scan or garbled). `ocr_languages` ("eng+msa"): Tesseract's
    languages for pages without a usable text layer; empty: no OCR."""
    reader = _open(data)
    page_count = len(reader.pages)
    if page_count == 0:
        raise RejectedFile("the PDF has no pages")
    if page_count > max_pages:
        raise RejectedFile(f"the PDF has {page_count} pages, over the limit of {max_pages}")
    outline = _outline_titles(reader)
    blocks: list[Block] = []
    delivered = 0
    pages_with_images = 0
    scanner = _Scanner(data, ocr_languages) if ocr_languages else None
    tables = TableReader(data)
    repeats = _Repeats()
    try:
        for number, page in enumerate(reader.pages, start=1):
            if on_part is not None and number % _PAGES_PER_PART == 1 and number > 1:
                on_part(blocks[delivered:], number - 1, page_count)
                delivered = len(blocks)
            for depth, heading in outline.get(number, []):
                blocks.append(Block(BlockKind.HEADING, heading, number, depth))
            try:
                text = page.extract_text() or ""
            except Exception as exc:  # one unreadable page must not lose the rest
                log.warning("page %d unreadable: %s", number, _short(exc))
                text = ""
            text = _SPACES.sub(" ", text.translate(_LIGATURES))
            laid_out = None  # the page with its tables as rows and columns, when it has any
            if text.strip():
                laid_out = tables.page_blocks(number, page, repeats)
            found = laid_out or list(text_blocks("\n".join(repeats(text.split("\n"))), number))
            scanned = not found and _has_images(page)
            pages_with_images += scanned
            needs_ocr = scanned or looks_garbled(text, at_least=40)
            if needs_ocr and scanner is not None and scanner.languages:
                read = scanner.page_text(number)
                found = list(text_blocks(read, number)) if read else []
                if on_part is not None and found:
                    blocks += found
                    on_part(blocks[delivered:], number, page_count)  # (slow: shown page by page)
                    delivered = len(blocks)
                    continue
            blocks += found
    finally:
        tables.close()
    notes = scanner.notes() if scanner is not None else []
    if not any(b.kind in (BlockKind.PARAGRAPH, BlockKind.ROW, BlockKind.TABLE) for b in blocks):
        if scanner is not None and scanner.unreadable:
            best = max(c for _, c in scanner.unreadable)
            what = (
                "the PDF is a scan that"
                if pages_with_images
                else "the PDF's text comes out garbled (its fonts have no usable character map),"
                " and"
            )
            raise RejectedFile(
                f"{what} OCR could not read it reliably (confidence {best:.0f}% at best, in"
                f" {scanner.languages}); a sharper scan, or the original exported again, may do"
            )
        if scanner is not None and scanner.languages and pages_with_images:
            raise RejectedFile("the PDF is a scan and OCR found no text in it")
        if pages_with_images:
            raise RejectedFile(
                "the PDF has no text layer (it looks like a scan) and OCR is off here"
                " (Tesseract is not installed, or ingest.ocr is off)"
            )
        raise RejectedFile("no text found in the PDF")
    if looks_garbled(" ".join(b.text for b in blocks)):
        raise RejectedFile(
            "the PDF's text comes out garbled (its fonts have no usable character map);"
            " export it again from the original, or treat it as a scan"
        )
    title: str | None = None
    try:
        meta = reader.metadata
        title = str(meta.title).strip() if meta and meta.title else None
    except Exception:  # metadata is optional
        title = None
    return LoadedDocument(blocks=blocks, pages=page_count, title=title, notes=notes)


def _has_images(page: Any) -> bool:
    try:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") if hasattr(resources, "get") else None
        if not xobjects:
            return False
        xobjects = xobjects.get_object()
        return any(xobjects[name].get_object().get("/Subtype") == "/Image" for name in xobjects)
    except Exception:  # unknown structure: assume no images
        return False
