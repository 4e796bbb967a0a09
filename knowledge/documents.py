"""What flows through ingestion: blocks from a loader, chunks into the index, hits from search."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class BlockKind(StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    TABLE = "table"
    FAQ = "faq"  # a question with its answer: kept whole
    ROW = "row"  # one line of a list laid out as rows (a price list's "iPhone battery: RM150")


@dataclass(frozen=True, slots=True)
class Block:
    """One structural unit of a document, in reading order.

    `level` is the heading depth (1 = top) for headings and unused otherwise.
    `page` is 1-based where the format has pages, else None.
    """

    kind: BlockKind
    text: str
    page: int | None = None
    level: int = 0


# Receives a long document's blocks early, as it is read: the blocks read since the last call,
# the pages read so far and the page count.
PartSink = Callable[[list[Block], int, int], None]


@dataclass(slots=True)
class LoadedDocument:
    """A parsed file: its blocks and what we learned about it."""

    blocks: list[Block]
    pages: int | None = None
    title: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage as indexed: `text` is what the customer sees; `section` is its heading path."""

    text: str
    page: int | None
    section: str
    ordinal: int
    is_faq: bool = False

    @property
    def question(self) -> str | None:
        """The question this passage answers, when it says so: an FAQ pair's, or a section's
        heading that is a question ("## Can I quarantine at home?", as FAQ pages in Markdown,
        Word or HTML are written). Customers paraphrase it, so it gets a vector of its own."""
        if self.is_faq:
            return self.text.split("\n", 1)[0]
        heading = self.section.rsplit(" > ", 1)[-1].strip()
        return heading if heading.endswith(("?", "？")) else None

    def indexed_text(self) -> str:
        """The text that is embedded and keyword-indexed: headings travel with their sections."""
        return f"{self.section}\n{self.text}" if self.section else self.text

    def embedded_texts(self) -> list[str]:
        """What gets a vector: the indexed text and, when it answers one, its question."""
        question = self.question
        return [self.indexed_text(), question] if question else [self.indexed_text()]


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage."""

    chunk_id: str
    source: str
    path: str
    page: int | None
    section: str
    text: str
    score: float
    similarity: float | None = None  # the embedding's cosine to the query, when it ranked it
    title: str = ""  # the document's title, as customers are shown it (never its file name)

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "path": self.path,
            "page": self.page,
            "section": self.section,
            "text": self.text,
            "title": self.title,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """A document as the knowledge base lists it."""

    source: str
    path: str
    pages: int | None
    chunks: int
    sha256: str
    ingested_at: str
    kind: str
    title: str = ""


_SHORT_NAME = 4  # "faq", "tnc": a short file name is an abbreviation, shown in capitals


def title_of(loaded: LoadedDocument, source: str) -> str:
    """A document's title for customers: its own (PDF or Word metadata, HTML <title>, Markdown
    front matter) where it is one, else its first top heading, else, where the writer stored a
    placeholder ("(anonymous)", "untitled"), the capitals its first paragraph opens with (a
    receipt's "TECHMART ELECTRONICS", a form's "BOOKING ORDER"), else its file name made
    readable ("price-list_2026.pdf" -> "Price list 2026", "faq.csv" -> "FAQ")."""
    stored = (loaded.title or "").strip()
    if stored and not _not_a_title(stored):
        return " ".join(stored.split())[:200]
    placeholder = _placeholder(stored)
    for position, block in enumerate(loaded.blocks[:5]):
        if block.kind is BlockKind.HEADING and block.level <= 1:
            return " ".join(block.text.split())[:200]
        # Only instead of a placeholder: a document with no title, or its file name for one,
        # is named by its file as before (and a form's first line may be an instruction).
        first_paragraph = position == 0 and block.kind is BlockKind.PARAGRAPH
        if placeholder and first_paragraph and (subject := _capitals(block.text)):
            return subject
    stem = source.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    words = " ".join(stem.replace("_", " ").replace("-", " ").split())
    if not words:
        return source
    if len(words) <= _SHORT_NAME and words.isalpha() and words.islower():
        return words.upper()
    return words[:1].upper() + words[1:]


# What PDF and Word writers store when nobody gave a title (seen in ../shared/corpus).
_PLACEHOLDER_TITLES = frozenset(
    {"anonymous", "untitled", "untitled document", "document", "no title", "title", "unknown"}
)


def _not_a_title(title: str) -> bool:
    """A stored title that names nothing: a placeholder ("(anonymous)", "untitled"), the file
    name ("Microsoft Word - a.docx", "MEDRPT-2024-PAT-3847_medical_report_scan")."""
    lowered = title.strip().lower()
    return (
        _placeholder(title)
        or lowered.endswith((".doc", ".docx", ".pdf", ".txt", ".htm", ".html"))
        or lowered.startswith("microsoft word")
        or (" " not in lowered and "_" in lowered)
    )


def _placeholder(title: str) -> bool:
    return title.strip("()[]<> ").lower() in _PLACEHOLDER_TITLES


def _capitals(text: str) -> str:
    """The words in capitals a text opens with, as a title ("Booking Order"): two to six
    words of letters, followed by something else, else ""."""
    words = []
    for word in text.split()[:7]:
        if not (word.isupper() and word.replace("&", "").replace("'", "").isalpha()):
            break
        words.append(word)
    return " ".join(w.capitalize() for w in words) if 2 <= len(words) <= 6 else ""
