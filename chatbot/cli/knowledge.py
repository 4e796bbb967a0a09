"""Commands on a bot's knowledge: ingest, search, docs, retitle, forget, reindex, ask."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from chatbot.cli.common import (
    BotOption,
    JsonOption,
    _fail,
    _print_report,
    _RichProgress,
    _services,
    app,
    err,
    shown,
)
from knowledge.errors import KnowledgeError

if TYPE_CHECKING:
    from chatbot.services import Services


@app.command()
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files and folders (read recursively), and websites (https://...: its pages,"
            " read again daily by the running server)."
        ),
    ],
    bot: BotOption = "default",
    mask_personal_data: Annotated[
        bool,
        typer.Option(
            "--mask-personal-data",
            help="Mask identity-card, phone, card and passport numbers and e-mail addresses"
            " in the documents before indexing (they are reported either way).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Add documents to a bot's knowledge base: PDF, Word, HTML, spreadsheets, CSV, Markdown,
    text, scans and photos; and websites.

    Exit status: 0 when every file was ingested or unchanged, 1 when some file was rejected or
    a site could not be read (the others are still ingested), 2 on a usage error.
    """
    from chatbot.actions.knowledge import ingest_files
    from chatbot.store.audit import command_line_actor

    services = _services()
    services.knowledge(bot)  # a model or store problem is told before any progress bar is drawn
    sites = [p for p in paths if p.lower().startswith(("http://", "https://"))]
    files = [Path(p) for p in paths if p not in sites]
    failed = False
    for site in sites:
        failed |= _read_site(services, bot, site, mask_personal_data, as_json)
    if not files:
        raise typer.Exit(1 if failed else 0)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        report = ingest_files(
            services,
            bot,
            files,
            command_line_actor(),
            _RichProgress(progress),
            mask_personal_data=mask_personal_data,
        )
    _print_report(report, as_json)
    if report.rejected or failed:
        raise typer.Exit(1)


def _read_site(services: Services, bot: str, address: str, mask: bool, as_json: bool) -> bool:
    """Read one website into the bot; True when it could not be read at all."""
    from chatbot.actions.websites import read_website, report_json
    from chatbot.store.audit import command_line_actor
    from knowledge.crawl.site import SiteError
    from knowledge.ingest import ProgressSink

    with err.status(f"reading {address} …") as status:

        class Pages(ProgressSink):
            def __init__(self) -> None:
                self.read = 0

            def page_read(self, url: str, outcome: str) -> None:
                self.read += 1
                status.update(shown(f"reading {address}: {self.read} pages, last {url}"))

        try:
            report = read_website(
                services, bot, address, command_line_actor(), Pages(), mask_personal_data=mask
            )
        except SiteError as exc:
            if as_json:
                print(json.dumps({"site": address, "error": str(exc)}, ensure_ascii=False))
            else:
                print(f"not read: {address}: {exc}")
            return True
    if as_json:
        print(json.dumps({"site": report.root, **report_json(report)}, ensure_ascii=False))
        return False
    print(f"{report.root}: {report.summary()}")
    for url in report.added:
        print(f"new: {url}")
    for url in report.changed:
        print(f"changed: {url}")
    for url in report.forgotten:
        print(f"gone: {url}")
    for url, why in report.skipped:
        print(f"not read: {url}: {why}")
    for url, note in report.notes:
        print(f"note: {url}: {note}")
    return False


@app.command()
def search(
    query: Annotated[
        str | None, typer.Argument(help="The question; without it, one query per line on stdin.")
    ] = None,
    bot: BotOption = "default",
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Passages per query.")] = 5,
    as_json: JsonOption = False,
) -> None:
    """Show the passages a bot would answer a question from."""
    kb = _services().knowledge(bot)
    queries = [query] if query is not None else [line.strip() for line in sys.stdin]
    for text in queries:
        if not text.strip():
            continue
        hits = kb.search(text, k)
        if as_json:
            print(
                json.dumps({"query": text, "hits": [h.as_json() for h in hits]}, ensure_ascii=False)
            )
            continue
        print(f"» {text}")
        if not hits:
            print("  (no passages found)")
        for rank, hit in enumerate(hits, start=1):
            where = f", page {hit.page}" if hit.page else ""
            section = f" · {hit.section}" if hit.section else ""
            print(f"{rank}. {hit.source}{where}{section}  [{hit.score:.4f}]")
            snippet = " ".join(hit.text.split())
            print(f"   {snippet[:300]}{'…' if len(snippet) > 300 else ''}")


@app.command()
def docs(bot: BotOption = "default", as_json: JsonOption = False) -> None:
    """List the documents in a bot's knowledge base."""
    records = _services().knowledge(bot).documents()
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "source": r.source,
                        "title": r.title,
                        "path": r.path,
                        "kind": r.kind,
                        "pages": r.pages,
                        "chunks": r.chunks,
                        "ingested_at": r.ingested_at,
                        "sha256": r.sha256,
                    }
                    for r in records
                ],
                ensure_ascii=False,
            )
        )
        return
    if not records:
        print(f"no documents in bot {bot!r} yet; add some with: chatbot ingest --bot {bot} PATH")
        return
    width = max(len(r.source) for r in records)
    print(f"{'source'.ljust(width)}  pages  chunks  ingested (UTC)         title customers see")
    for r in records:
        pages = str(r.pages) if r.pages else "-"
        print(f"{r.source.ljust(width)}  {pages:>5}  {r.chunks:>6}  {r.ingested_at}  {r.title}")


@app.command()
def retitle(
    source: Annotated[str, typer.Argument(help="The document's name as `chatbot docs` lists it.")],
    title: Annotated[str, typer.Argument(help="The title customers see under answers from it.")],
    bot: BotOption = "default",
) -> None:
    """Give a document the title customers see (taken from the document itself until then)."""
    from chatbot.actions.knowledge import retitle_document
    from chatbot.store.audit import command_line_actor

    services = _services()
    matches = services.knowledge(bot).find_sources(source)
    if len(matches) != 1:
        _fail(
            f"no single document {source!r} in bot {bot!r}; `chatbot docs --bot {bot}` lists them"
        )
    try:
        retitle_document(services, bot, matches[0], title, command_line_actor())
    except KnowledgeError as exc:
        _fail(str(exc))
    print(f"{matches[0]}: customers now see “{' '.join(title.split())}”")


@app.command()
def forget(
    source: Annotated[str, typer.Argument(help="The document's name as `chatbot docs` lists it.")],
    bot: BotOption = "default",
) -> None:
    """Remove a document and every passage of it from a bot's knowledge base."""
    from chatbot.actions.knowledge import forget_document
    from chatbot.store.audit import command_line_actor

    services = _services()
    kb = services.knowledge(bot)
    matches = kb.find_sources(source)
    if not matches:
        _fail(f"no document {source!r} in bot {bot!r}; `chatbot docs --bot {bot}` lists them")
    if len(matches) > 1:
        _fail(f"{source!r} matches several documents: {', '.join(matches)}; name one exactly")
    forget_document(services, bot, matches[0], command_line_actor())
    print(f"forgot: {matches[0]}")


@app.command()
def reindex(bot: BotOption = "default") -> None:
    """Re-embed a bot's knowledge base with the configured embedding model (after changing it)."""
    from chatbot.actions.knowledge import reindex as reindex_bot
    from chatbot.store.audit import command_line_actor

    services = _services()
    columns = (TextColumn("re-embedding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("reindex", total=None)
        count = reindex_bot(
            services,
            bot,
            command_line_actor(),
            lambda done, total: progress.update(task, completed=done, total=total),
        )
    print(f"re-indexed: {count} chunks with {services.embedder.name}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The customer's question.")],
    bot: BotOption = "default",
    as_json: JsonOption = False,
) -> None:
    """Answer a question as the bot would answer a customer, with its sources."""
    from chatbot.answering.result import Delta, Done, Replace

    services = _services()
    services.warm_up(bot)
    answerer = services.answerer(bot)
    if as_json:
        print(json.dumps(answerer.answer(question).as_json(), ensure_ascii=False))
        return
    shown = False
    for event in answerer.stream(question):
        if isinstance(event, Delta):
            print(event.text, end="", flush=True)
            shown = True
        elif isinstance(event, Replace):
            # The guard withheld what was printed; a terminal cannot unprint, so say so.
            if shown:
                print("\n[withheld: it stated something the sources do not]\n")
            print(event.text, end="", flush=True)
        elif isinstance(event, Done):
            answer = event.answer
            print()
            if answer.sources:
                print()
                label = services.prompts.messages.get(answer.language, "sources")
                for source in answer.sources:
                    print(f"  [{label}] {source.label()}")
