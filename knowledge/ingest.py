"""Files and folders, and websites, into a knowledge base: one bad file or page never stops
the others."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from knowledge.base import KnowledgeBase
from knowledge.crawl.site import Page, SiteCrawl, Validators
from knowledge.documents import Block, LoadedDocument
from knowledge.errors import KnowledgeError, RejectedFile, StoreUnavailable
from knowledge.loaders import kind_of
from knowledge.parse_worker import ParseLimits, ParseWorker

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestLimits:
    max_file_mb: float = 50.0
    parse: ParseLimits = field(default_factory=ParseLimits)
    # A 50 MB one-line CSV made 41,899 passages and half an hour of embedding in the server;
    # the 872-page handbook of the tests makes a few thousand.
    max_passages: int = 20_000
    max_embed_s: float = 1800.0


@dataclass(slots=True)
class IngestReport:
    ingested: list[tuple[Path, int]] = field(default_factory=list)  # (path, chunks)
    unchanged: list[Path] = field(default_factory=list)
    rejected: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[tuple[Path, str]] = field(default_factory=list)  # what staff should know


class DocumentReview(Protocol):
    """Looks at each parsed document before it is indexed, may change its text, and may leave
    a note for staff (the application uses it to find and mask personal data)."""

    # Part of the document's fingerprint: the same file reviewed another way is indexed anew.
    tag: str

    def __call__(self, loaded: LoadedDocument) -> tuple[LoadedDocument, str | None]: ...


class ProgressSink:
    """What the caller shows while ingesting; the default shows nothing."""

    def files(self, total: int) -> None: ...
    def file_started(self, path: Path) -> None: ...
    def file_done(self, path: Path) -> None: ...
    def pages(self, read: int, total: int) -> None: ...  # of a long PDF, as it is read
    def chunks(self, done: int, total: int) -> None: ...
    def page_read(self, url: str, outcome: str) -> None: ...  # of a website, as it is read


def collect_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under `paths`, folders walked recursively, hidden entries (.git, ~$ locks) skipped."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path).parts
                if child.is_file() and not any(p.startswith((".", "~$")) for p in relative):
                    yield child
        else:
            yield path


def ingest_paths(
    kb: KnowledgeBase,
    paths: Iterable[Path],
    limits: IngestLimits,
    progress: ProgressSink | None = None,
    review: DocumentReview | None = None,
) -> IngestReport:
    sink = progress or ProgressSink()
    files = list(collect_files(paths))
    sink.files(len(files))
    report = IngestReport()
    seen: dict[str, Path] = {}
    with ParseWorker(limits.parse) as worker:
        for path in files:
            sink.file_started(path)
            try:
                outcome = _ingest_one(kb, worker, path, limits, seen, sink, review, report)
            except RejectedFile as exc:
                report.rejected.append((path, str(exc)))
            except StoreUnavailable:
                raise
            except KnowledgeError as exc:
                report.rejected.append((path, str(exc)))
            except Exception:  # the traceback goes to the log, not the user
                log.exception("unexpected failure ingesting %s", path)
                report.rejected.append(
                    (
                        path,
                        "the file could not be read because of a fault in this program"
                        " (the details are in the log)",
                    )
                )
            else:
                if outcome is None:
                    report.unchanged.append(path)
                else:
                    report.ingested.append((path, outcome))
            sink.file_done(path)
    return report


def _read_limited(path: Path, limits: IngestLimits) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise RejectedFile("no such file") from exc
    except OSError as exc:
        raise RejectedFile(f"cannot read the file ({exc.strerror})") from exc
    if size == 0:
        raise RejectedFile("the file is empty")
    if size > limits.max_file_mb * 1024 * 1024:
        raise RejectedFile(
            f"the file is {size / 1024 / 1024:.1f} MB, over the limit of {limits.max_file_mb:g} MB"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RejectedFile(f"cannot read the file ({exc.strerror})") from exc


def _ingest_one(
    kb: KnowledgeBase,
    worker: ParseWorker,
    path: Path,
    limits: IngestLimits,
    seen: dict[str, Path],
    sink: ProgressSink,
    review: DocumentReview | None,
    report: IngestReport,
) -> int | None:
    """Chunks written, or None when the file is unchanged since it was last ingested."""
    if not path.exists():
        raise RejectedFile("no such file")
    kind = kind_of(path)
    source = path.name
    if source in seen:
        raise RejectedFile(
            f"another file named {source} was already ingested in this run ({seen[source]});"
            " documents are known by file name, so rename one of them"
        )
    data = _read_limited(path, limits)
    seen[source] = path
    fingerprint = hashlib.sha256(data)
    if review is not None and review.tag:
        fingerprint.update(f"\0{review.tag}".encode())
    sha256 = fingerprint.hexdigest()
    if kb.is_unchanged(source, sha256):
        return None
    # A long PDF's first pages are embedded while the worker reads the rest.
    early = kb.early_vectors()

    def on_part(blocks: list[Block], read: int, total: int) -> None:
        sink.pages(read, total)
        early.add_blocks(blocks, worker.reading, read / max(total, 1))

    loaded = worker.parse(kind, data, on_part)
    if review is not None:
        loaded, note = review(loaded)
        if note:
            report.notes.append((path, note))
    added = kb.add_document(
        source=source,
        path=str(path.resolve()),
        kind=kind,
        sha256=sha256,
        loaded=loaded,
        on_progress=sink.chunks,
        early=early,
        max_passages=limits.max_passages,
        max_embed_s=limits.max_embed_s,
    )
    # What the loader skipped or could not read whole (a hidden sheet), for staff to see.
    report.notes += [(path, note) for note in loaded.notes]
    return added


@dataclass(slots=True)
class SiteReport:
    """One read of a website: what changed in the knowledge base, and why each page that was
    not read was not."""

    root: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)  # gone from the site (404, 410)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (address, why)
    notes: list[tuple[str, str]] = field(default_factory=list)
    validators: dict[str, Validators] = field(default_factory=dict)  # for the next read
    stopped_by: str = ""  # a limit that ended the read early
    used_sitemap: bool = False

    def summary(self) -> str:
        counts = (
            f"{len(self.added)} new, {len(self.changed)} changed, {len(self.unchanged)}"
            f" unchanged, {len(self.forgotten)} gone, {len(self.skipped)} not read"
        )
        return counts + (f" (stopped at {self.stopped_by})" if self.stopped_by else "")


def ingest_site(
    kb: KnowledgeBase,
    crawl: SiteCrawl,
    limits: IngestLimits,
    progress: ProgressSink | None = None,
    review: DocumentReview | None = None,
) -> SiteReport:
    """Read the site and bring the knowledge base in line with it: new pages added, changed
    ones replaced (a page is changed when its main text is, not its markup), vanished ones
    forgotten; a page that could not be read this time keeps its last version."""
    sink = progress or ProgressSink()
    report = SiteReport(crawl.root)
    had = {d.source for d in kb.documents() if d.source.startswith(crawl.root)}
    with ParseWorker(limits.parse) as worker:
        for page in crawl.pages():
            sink.page_read(page.url, page.outcome)
            if page.outcome == "unchanged":
                report.unchanged.append(page.url)
                report.validators[page.url] = page.validators
            elif page.outcome == "gone":
                if page.url in had and kb.forget(page.url):
                    report.forgotten.append(page.url)
                else:
                    report.skipped.append((page.url, f"not found ({page.reason})"))
            elif page.outcome == "skipped":
                report.skipped.append((page.url, page.reason))
                if page.url in crawl.known:  # kept as it was: asked the same way next time
                    report.validators[page.url] = crawl.known[page.url]
            else:
                try:
                    _ingest_page(kb, worker, page, had, review, report)
                except StoreUnavailable:
                    raise
                except KnowledgeError as exc:  # (RejectedFile among them)
                    report.skipped.append((page.url, str(exc)))
    report.stopped_by, report.used_sitemap = crawl.stopped_by, crawl.used_sitemap
    return report


def _ingest_page(
    kb: KnowledgeBase,
    worker: ParseWorker,
    page: Page,
    had: set[str],
    review: DocumentReview | None,
    report: SiteReport,
) -> None:
    loaded = worker.parse("webpage", page.html)  # hostile markup is read in the worker
    if review is not None:
        loaded, note = review(loaded)
        if note:
            report.notes.append((page.url, note))
    # The page's text, not its markup: a new session token or ad in the HTML is no change.
    fingerprint = hashlib.sha256((loaded.title or "").encode())
    for block in loaded.blocks:
        fingerprint.update(f"\0{block.kind}\0{block.text}".encode())
    if review is not None and review.tag:
        fingerprint.update(f"\0{review.tag}".encode())
    sha256 = fingerprint.hexdigest()
    report.validators[page.url] = page.validators
    if kb.is_unchanged(page.url, sha256):
        report.unchanged.append(page.url)
        return
    kb.add_document(source=page.url, path=page.url, kind="webpage", sha256=sha256, loaded=loaded)
    (report.changed if page.url in had else report.added).append(page.url)
