"""Pick the loader for a file by its extension, checked against its first bytes."""

from __future__ import annotations

from pathlib import Path

from knowledge.documents import LoadedDocument, PartSink
from knowledge.errors import RejectedFile

SUPPORTED = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".csv": "csv",
    ".tsv": "csv",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".ods": "ods",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".webp": "image",
}

_ADVICE = {
    ".doc": "old Word .doc files are not read; save it as .docx",
    ".xls": "old Excel .xls files are not read; save it as .xlsx",
    ".pptx": "slides are not read; save them as PDF",
}


def kind_of(path: Path) -> str:
    """The loader name for `path`, or RejectedFile saying which types are supported."""
    suffix = path.suffix.lower()
    if suffix in SUPPORTED:
        return SUPPORTED[suffix]
    if suffix in _ADVICE:
        raise RejectedFile(_ADVICE[suffix])
    aliases = (".text", ".markdown", ".xhtml", ".xlsm", ".jpeg")
    names = ", ".join(sorted({s for s in SUPPORTED if s not in aliases}))
    shown = suffix or "with no extension"
    raise RejectedFile(f"unsupported file type {shown} (supported: {names})")


def load_bytes(
    kind: str,
    data: bytes,
    max_pages: int,
    on_part: PartSink | None = None,
    ocr_languages: str = "",
) -> LoadedDocument:
    """Parse `data` as `kind`. Raises RejectedFile with the reason when it cannot.

    `on_part`, when given, receives early parts of long paged documents (PDF) as they are read.
    `ocr_languages` ("eng+msa"): Tesseract's languages for scans and photos; empty: no OCR.
    """
    if not data.strip():
        raise RejectedFile("the file is empty")
    if kind == "pdf":
        if b"%PDF" not in data[:1024]:
            raise RejectedFile("the file is not a PDF (it has no PDF header)")
        from knowledge.loaders.pdf import load_pdf

        return load_pdf(data, max_pages, on_part, ocr_languages)
    if kind == "docx":
        from knowledge.loaders.docx import load_docx

        return load_docx(data, max_pages)
    if kind == "html":
        from knowledge.loaders.html import load_html

        return load_html(data)
    if kind == "csv":
        from knowledge.loaders.csvfaq import load_csv

        return load_csv(data)
    if kind == "webpage":  # a crawled page (not a file staff uploaded: it has no extension)
        from knowledge.loaders.webpage import load_webpage

        return load_webpage(data)
    if kind == "image":
        from knowledge.loaders.image import load_image

        return load_image(data, ocr_languages)
    if kind == "xlsx":
        from knowledge.loaders.spreadsheet import load_xlsx

        return load_xlsx(data)
    if kind == "ods":
        from knowledge.loaders.spreadsheet import load_ods

        return load_ods(data)
    if kind == "markdown":
        from knowledge.loaders.markdown import load_markdown

        return load_markdown(data)
    if kind == "text":
        from knowledge.loaders.markdown import load_plain_text

        return load_plain_text(data)
    raise RejectedFile(f"no loader for {kind}")
