"""HTML: the main text of a page, with its headings and tables, in any encoding."""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

from knowledge.documents import Block, BlockKind, LoadedDocument
from knowledge.errors import RejectedFile
from knowledge.loaders.encoding import declared_html_charset, decode_text

# Page furniture, not content: menus, banners, cookie notices, scripts.
_DROP = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "form",
    "button",
    "nav",
    "header",
    "footer",
    "aside",
    "select",
    "input",
    "head",
)
_BOILERPLATE = re.compile(
    r"(^|[\s_-])(nav|navbar|menu|breadcrumb|sidebar|footer|header|cookie|banner|share|social|"
    r"related|advert|ads|popup|subscribe|skip-link)([\s_-]|$)",
    re.I,
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = {"p", "li", "dd", "dt", "pre", "blockquote", "address", "figcaption", "caption"}
_WS = re.compile(r"\s+")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _clean(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _main_element(root: etree._Element) -> etree._Element:
    for xpath in ("//main", "//article", "//*[@role='main']", "//body"):
        found = root.xpath(xpath)
        if found:
            return max(found, key=lambda el: len(el.text_content()))  # type: ignore[no-any-return]
    return root


_MAX_SPAN = 50  # a colspan or rowspan above this is a page's mistake (or a trap), not a table


def _span(cell: etree._Element, name: str) -> int:
    try:
        return max(1, min(int(cell.get(name, "1")), _MAX_SPAN))
    except ValueError:
        return 1


def _table_text(table: etree._Element) -> str:
    """The table as "a | b" lines, a merged cell's text in every column and row it covers: a
    rate under "Peak season" (colspan 2) over "Weekday | Weekend" is in both of its columns."""
    rows: list[str] = []
    carried: dict[int, tuple[str, int]] = {}  # column -> (text, rows it still covers)
    for tr in table.iter("tr"):
        cells: list[str] = []
        for cell in (c for c in tr if c.tag in ("td", "th")):
            _carry_down(cells, carried)
            text = _clean(cell.text_content())
            down = _span(cell, "rowspan")
            for _ in range(_span(cell, "colspan")):
                if down > 1:
                    carried[len(cells)] = (text, down - 1)
                cells.append(text)
        _carry_down(cells, carried)
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _carry_down(cells: list[str], carried: dict[int, tuple[str, int]]) -> None:
    """Fill the row's next columns with the cells above that span down into them."""
    while len(cells) in carried:
        column = len(cells)
        text, left = carried[column]
        cells.append(text)
        if left <= 1:
            del carried[column]
        else:
            carried[column] = (text, left - 1)


def load_html(data: bytes) -> LoadedDocument:
    # lxml refuses a str that still carries an XML encoding declaration; the bytes are decoded.
    text = _XML_DECLARATION.sub("", decode_text(data, declared_html_charset(data)), count=1)
    if not text.strip():
        raise RejectedFile("the page is empty")
    try:
        root = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise RejectedFile("the page is not readable HTML") from exc
    title_el = root.find(".//title")
    title = _clean(title_el.text_content()) if title_el is not None else None
    for el in list(root.iter(*_DROP)):
        el.drop_tree()
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        attrs = f"{el.get('class', '')} {el.get('id', '')}"
        if el.tag not in ("body", "html", "main", "article") and _BOILERPLATE.search(attrs):
            el.drop_tree()
    blocks: list[Block] = []
    _walk(_main_element(root), blocks)
    if not blocks:
        raise RejectedFile("no text found in the page")
    return LoadedDocument(blocks=blocks, title=title or None)


def _walk(el: etree._Element, blocks: list[Block]) -> None:
    """Emit blocks for block-level elements; loose text inside containers becomes paragraphs."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _HEADINGS:
        if text := _clean(el.text_content()):
            blocks.append(Block(BlockKind.HEADING, text, None, _HEADINGS[tag]))
        return
    if tag == "table":
        if text := _table_text(el):
            blocks.append(Block(BlockKind.TABLE, text))
        return
    if tag in _BLOCKS:
        if text := _clean(el.text_content()):
            blocks.append(Block(BlockKind.PARAGRAPH, text))
        return
    loose = _clean(el.text or "")
    if loose:
        blocks.append(Block(BlockKind.PARAGRAPH, loose))
    for child in el:
        _walk(child, blocks)
        tail = _clean(child.tail or "")
        if tail:
            blocks.append(Block(BlockKind.PARAGRAPH, tail))
