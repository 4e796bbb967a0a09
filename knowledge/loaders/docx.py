"""Word .docx: paragraphs, headings and tables in reading order, straight from the XML.

Reading word/document.xml with lxml is several times faster than python-docx on long files and
lets us see Word's own page breaks, which give each passage a page number.
"""

from __future__ import annotations

import io
import re
import zipfile

from lxml import etree

from knowledge.documents import Block, BlockKind, LoadedDocument
from knowledge.errors import RejectedFile

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading|kop|titre|überschrift|tajuk)\s*(\d)$", re.I)
_MAX_XML_BYTES = 400 * 1024 * 1024  # a zip bomb is stopped before lxml sees it


def _style_levels(archive: zipfile.ZipFile) -> dict[str, int]:
    """Style id -> heading level, from styles.xml names ("heading 1") and outline levels."""
    levels: dict[str, int] = {}
    try:
        root = etree.fromstring(archive.read("word/styles.xml"))
    except (KeyError, etree.XMLSyntaxError):
        return levels
    for style in root.iter(f"{_W}style"):
        style_id = style.get(f"{_W}styleId") or ""
        name_el = style.find(f"{_W}name")
        name = (name_el.get(f"{_W}val") if name_el is not None else "") or ""
        match = _HEADING_STYLE.match(name.strip())
        if name.strip().lower() == "title":
            levels[style_id] = 1
        elif match:
            levels[style_id] = int(match.group(1))
        else:
            outline = style.find(f"{_W}pPr/{_W}outlineLvl")
            val = outline.get(f"{_W}val", "") if outline is not None else ""
            if val.isdigit() and int(val) < 9:
                levels[style_id] = int(val) + 1
    return levels


def _paragraph_text(p: etree._Element) -> tuple[str, int]:
    """The paragraph's text and how many page breaks it holds."""
    parts: list[str] = []
    breaks = 0
    for el in p.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}lastRenderedPageBreak"):
        tag = el.tag
        if tag == f"{_W}t":
            parts.append(el.text or "")
        elif tag == f"{_W}tab":
            parts.append("\t")
        elif tag == f"{_W}lastRenderedPageBreak" or el.get(f"{_W}type") == "page":
            breaks += 1
        else:
            parts.append("\n")
    return "".join(parts).strip(), breaks


def _table_text(tbl: etree._Element) -> str:
    rows: list[str] = []
    for tr in tbl.iter(f"{_W}tr"):
        cells: list[str] = []
        for tc in tr.iter(f"{_W}tc"):
            cell = " ".join(t for t in (_paragraph_text(p)[0] for p in tc.iter(f"{_W}p")) if t)
            cells.append(cell)
        # Merged cells repeat their text in python-docx but appear once here; drop empty rows.
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def load_docx(data: bytes, max_pages: int) -> LoadedDocument:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo("word/document.xml")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise RejectedFile("the file is not a readable Word .docx document") from exc
    if info.file_size > _MAX_XML_BYTES:
        raise RejectedFile("the Word document's text is too large to read safely")
    declared_pages = _declared_pages(archive)
    if declared_pages and declared_pages > max_pages:
        raise RejectedFile(
            f"the document has {declared_pages} pages, over the limit of {max_pages}"
        )
    levels = _style_levels(archive)
    try:
        root = etree.fromstring(archive.read(info), parser=etree.XMLParser(huge_tree=True))
    except etree.XMLSyntaxError as exc:
        raise RejectedFile("the Word document is damaged (its XML does not parse)") from exc
    body = root.find(f"{_W}body")
    if body is None:
        raise RejectedFile("the Word document has no body")
    page = 1
    blocks: list[Block] = []
    for child in body:
        if child.tag == f"{_W}p":
            text, breaks = _paragraph_text(child)
            style = child.find(f"{_W}pPr/{_W}pStyle")
            level = levels.get(style.get(f"{_W}val", "") if style is not None else "", 0)
            if text:
                kind = BlockKind.HEADING if level and len(text) < 200 else BlockKind.PARAGRAPH
                blocks.append(Block(kind, text, page, level))
            page += breaks
        elif child.tag == f"{_W}tbl":
            text = _table_text(child)
            if text:
                blocks.append(Block(BlockKind.TABLE, text, page))
            page += sum(1 for _ in child.iter(f"{_W}lastRenderedPageBreak"))
    if not blocks:
        raise RejectedFile("no text found in the Word document")
    pages = declared_pages or page
    return LoadedDocument(blocks=blocks, pages=pages)


def _declared_pages(archive: zipfile.ZipFile) -> int | None:
    """The page count Word saved in docProps/app.xml, when it did."""
    try:
        root = etree.fromstring(archive.read("docProps/app.xml"))
    except (KeyError, etree.XMLSyntaxError):
        return None
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.endswith("}Pages") and (el.text or "").isdigit():
            return int(el.text or "0") or None
    return None
