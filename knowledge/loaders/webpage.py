"""A page of a business's website, as the crawler fetched it: its main text extracted by
trafilatura (menus, headers, footers, cookie banners left out), kept as Markdown so headings
and tables keep their structure, then read like any Markdown document."""

from __future__ import annotations

import functools
from typing import Any

from knowledge.documents import LoadedDocument
from knowledge.errors import RejectedFile
from knowledge.loaders.encoding import decode_text
from knowledge.loaders.markdown import load_markdown


@functools.cache  # one per worker: use_config() reads and parses trafilatura's settings file
def _config() -> Any:
    from trafilatura.settings import use_config

    config = use_config()
    # A small business's pages are short (a price table, opening hours): under trafilatura's
    # default minimum (250 characters) it falls back to a cruder extraction that keeps the menu
    # and flattens tables into a line.
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    return config


# Never a page's own content: when trafilatura finds little main text it falls back to the
# whole page, and these would come with it (a menu as the answer to a question).
_FURNITURE = ("nav", "header", "footer", "aside", "form", "script", "style", "noscript")


def _without_furniture(html: str) -> str:
    import lxml.etree
    import lxml.html

    try:
        tree = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return html
    for element in list(tree.iter(*_FURNITURE)):
        element.drop_tree()
    return str(lxml.html.tostring(tree, encoding="unicode"))


def load_webpage(data: bytes) -> LoadedDocument:
    import trafilatura

    html = decode_text(data)
    meta = trafilatura.extract_metadata(html)
    text = trafilatura.extract(
        _without_furniture(html),
        config=_config(),
        output_format="markdown",
        include_tables=True,
        include_links=False,
        include_images=False,
        include_comments=False,
    )
    if not text or not text.strip():
        raise RejectedFile("the page has no main text (only menus, forms or scripts)")
    loaded = load_markdown(text.encode("utf-8"))
    title = (meta.title or "").strip() if meta is not None else ""
    return LoadedDocument(blocks=loaded.blocks, title=title or None)
