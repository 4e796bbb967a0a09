"""`chatbot <verb>`: the command line. Each verb parses, calls the core, prints."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from chatbot.llm.base import label
from chatbot.logs import configure_logging
from chatbot.services import Services
from chatbot.settings import load_settings
from knowledge.errors import KnowledgeError
from knowledge.ingest import IngestReport, ProgressSink, ingest_paths

log = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).resolve().parent / "demo"  # shipped inside the package
DEMO_BOT = "demo-shop"

app = typer.Typer(
    name="chatbot",
    help="Customer-support chatbots grounded in your own documents, on local models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)

BotOption = Annotated[
    str, typer.Option("--bot", "-b", help="The bot (one knowledge base per bot).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


class _State:
    services: Services | None = None
    config: Path | None = None
    data_dir: Path | None = None


_state = _State()


def _services() -> Services:
    if _state.services is None:
        settings = load_settings(_state.config, _state.data_dir)
        configure_logging(settings.data_dir, settings.log_level)
        _state.services = Services(settings)
    return _state.services


def _print_error(message: str) -> None:
    # Plain print, not rich: an error is one line however narrow the terminal.
    print(f"error: {' '.join(message.split())}", file=sys.stderr)


def _fail(message: str, code: int = 1) -> NoReturn:
    _print_error(message)
    raise typer.Exit(code)


@app.callback()
def _main(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where bots and knowledge bases live [env CHATBOT_DATA_DIR; default ./data].",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="A YAML settings file [env CHATBOT_CONFIG]."),
    ] = None,
) -> None:
    _state.data_dir = data_dir
    _state.config = config


class _RichProgress(ProgressSink):
    """Files done out of total, the pages of a long PDF being read, and the chunks of the file
    being embedded."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._files = progress.add_task("files", total=0)
        self._pages: TaskID | None = None
        self._chunks: TaskID | None = None

    def files(self, total: int) -> None:
        self._progress.update(self._files, total=total)

    def file_started(self, path: Path) -> None:
        self._progress.update(self._files, description=f"{path.name[:40]}")

    def pages(self, read: int, total: int) -> None:
        if self._pages is None:
            self._pages = self._progress.add_task("  reading pages", total=total)
        self._progress.update(self._pages, completed=read, total=total)

    def chunks(self, done: int, total: int) -> None:
        if self._pages is not None:  # the file is read: its pages bar has done its job
            self._progress.remove_task(self._pages)
            self._pages = None
        if self._chunks is None:
            self._chunks = self._progress.add_task("  embedding", total=total)
        self._progress.update(self._chunks, completed=done, total=total)

    def file_done(self, path: Path) -> None:
        self._progress.advance(self._files)
        for task in (self._pages, self._chunks):
            if task is not None:
                self._progress.remove_task(task)
        self._pages = self._chunks = None


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (read recursively).")],
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
    """Add documents to a bot's knowledge base: PDF, Word, HTML, CSV, Markdown, text.

    Exit status: 0 when every file was ingested or unchanged, 1 when some file was rejected
    (the others are still ingested), 2 on a usage error.
    """
    from chatbot.audit import command_line_actor
    from chatbot.staff_actions import ingest_files

    services = _services()
    services.knowledge(bot)  # a model or store problem is told before any progress bar is drawn
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
            paths,
            command_line_actor(),
            _RichProgress(progress),
            mask_personal_data=mask_personal_data,
        )
    _print_report(report, as_json)
    if report.rejected:
        raise typer.Exit(1)


def _print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "ingested": [{"path": str(p), "chunks": n} for p, n in report.ingested],
                    "unchanged": [str(p) for p in report.unchanged],
                    "rejected": [{"path": str(p), "reason": r} for p, r in report.rejected],
                    "notes": [{"path": str(p), "note": n} for p, n in report.notes],
                },
                ensure_ascii=False,
            )
        )
        return
    chunks = sum(n for _, n in report.ingested)
    print(
        f"ingested: {len(report.ingested)} ({chunks} chunks), unchanged: {len(report.unchanged)},"
        f" rejected: {len(report.rejected)}"
    )
    for path, reason in report.rejected:
        print(f"rejected: {path}: {reason}")
    for path, note in report.notes:
        print(f"note: {path}: {note}")
    if any(note.endswith("not masked") for _, note in report.notes):
        print("(to mask it before indexing, ingest again with --mask-personal-data)")


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
    from chatbot.audit import command_line_actor
    from chatbot.staff_actions import retitle_document

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
    from chatbot.audit import command_line_actor
    from chatbot.staff_actions import forget_document

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
    kb = _services().knowledge(bot, reindexing=True)
    columns = (TextColumn("re-embedding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("reindex", total=None)
        count = kb.reindex(lambda done, total: progress.update(task, completed=done, total=total))
    print(f"re-indexed: {count} chunks with {kb.embedder.name}")


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


HostOption = Annotated[
    str | None, typer.Option("--host", help="Address to listen on [default 127.0.0.1].")
]
PortOption = Annotated[int | None, typer.Option("--port", min=1, max=65535, help="Port [7860].")]


def _serve(services: Services, bots: list[str] | None, host: str | None, port: int | None) -> None:
    """Serve `bots`, or (None) every bot, those created while it runs included."""
    import uvicorn

    from chatbot.web.app import create_app

    server = services.settings.server
    host, port = host or server.host, port or server.port
    names = bots if bots is not None else services.bot_names()
    services.warm_up(*names)
    for bot in names:
        if not services.knowledge(bot).documents():
            err.print(f"note: bot {bot!r} has no documents yet; its chat says it is not ready")
    chat_model = services.chat_model
    app = create_app(services, bots)
    from chatbot.privacy.retention import PurgeSchedule

    # Conversations past their bot's retention period go, from start-up on, hourly.
    PurgeSchedule(services, services.settings.privacy.purge_every_minutes * 60).start()
    model = label(chat_model) if chat_model else "none (extract mode)"
    if names:
        where = f"serving {', '.join(names)} on http://{host}:{port}/chat/{names[0]}/"
    else:
        where = f"no bots yet: make one in the console, http://{host}:{port}/admin/, or with"
        where += " `chatbot bots create NAME`; serving"
    err.print(f"{where} (model: {model})")
    # On SIGTERM (`docker stop`) open streams get a few seconds to end, then are cut: a
    # generation that is stuck must not keep the process alive until it is killed.
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)


@app.command()
def serve(
    bots: Annotated[
        list[str] | None, typer.Option("--bot", "-b", help="Bots to serve [default: all].")
    ] = None,
    host: HostOption = None,
    port: PortOption = None,
) -> None:
    """Serve the customer chat of each bot, with /healthz and /readyz."""
    services = _services()
    for bot in bots or []:
        if not services.bots.exists(bot):
            _fail(f"there is no bot {bot!r}; `chatbot bots list` shows them")
    # Zero bots, or bots without documents, are how a deployment starts: it serves anyway.
    _serve(services, bots or None, host, port)


@app.command()
def demo(host: HostOption = None, port: PortOption = None) -> None:
    """Set up the demo bot of a fictional Penang phone-repair shop and serve it."""
    import yaml

    from chatbot.settings import BotProfile

    services = _services()
    folder = DEMO_DIR
    if not (folder / "documents").is_dir():
        _fail(f"the demo documents are missing from {folder}; reinstall the package")
    profile = yaml.safe_load((folder / "bot.yaml").read_text(encoding="utf-8"))
    # Stored like any bot's (once: staff's later changes stay), so that `chatbot bots set` and
    # the console, in other processes, see and change the demo's real profile.
    services.bots.import_profile(DEMO_BOT, BotProfile(**profile))
    report = ingest_paths(
        services.knowledge(DEMO_BOT), [folder / "documents"], services.ingest_limits
    )
    _print_report(report, as_json=False)
    _serve(services, [DEMO_BOT], host, port)


bots_app = typer.Typer(
    help="Create, show, change and delete bots and their profiles (title, colour, greeting,"
    " suggested questions, allowed sites, limits).",
    no_args_is_help=True,
)
app.add_typer(bots_app, name="bots")

Assignments = Annotated[
    list[str] | None,
    typer.Argument(
        help="name=value pairs, e.g. greeting='Hi!' allowed_origins+=https://shop.example"
        " limits.max_turns=20; lists take a JSON array or comma-separated items.",
        show_default=False,
    ),
]


def _show_profile(name: str, as_json: bool) -> None:
    services = _services()
    data = services.profile(name).model_dump(mode="json")
    if as_json:
        print(json.dumps({"name": name, **data}, ensure_ascii=False, indent=2))
        return
    print(f"bot: {name}")
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, item in value.items():
                print(f"{key}.{sub}: {item}")
        elif isinstance(value, list):
            print(f"{key}: {', '.join(value) if value else '(none)'}")
        else:
            print(f"{key}: {value}")


@bots_app.command("list")
def bots_list(as_json: JsonOption = False) -> None:
    """The bots, with their title and whether they have documents."""
    services = _services()
    rows = []
    for name in services.bot_names():
        documents = len(services.knowledge(name).documents())
        rows.append({"name": name, "title": services.profile(name).title, "documents": documents})
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
    elif not rows:
        print("no bots yet: `chatbot bots create NAME` or `chatbot ingest --bot NAME PATH`")
    else:
        for row in rows:
            print(f"{row['name']}\t{row['documents']} documents\t{row['title']}")


@bots_app.command("create")
def bots_create(
    name: Annotated[str, typer.Argument(help="The bot's name: a-z, 0-9, - and _.")],
    assignments: Assignments = None,
) -> None:
    """Create a bot, optionally setting its profile at once."""
    from chatbot.audit import command_line_actor
    from chatbot.bots import parse_assignments
    from chatbot.settings import BotProfile
    from chatbot.staff_actions import create_bot

    services = _services()
    changes = parse_assignments(assignments or [], BotProfile())
    create_bot(services, name, changes, command_line_actor())
    print(f"created bot {name}; add documents with `chatbot ingest --bot {name} PATH`")


@bots_app.command("show")
def bots_show(
    name: Annotated[str, typer.Argument(help="The bot.")], as_json: JsonOption = False
) -> None:
    """A bot's profile."""
    services = _services()
    if not services.bots.exists(name):
        _fail(f"there is no bot {name!r}; `chatbot bots list` shows them")
    _show_profile(name, as_json)


@bots_app.command("set")
def bots_set(
    name: Annotated[str, typer.Argument(help="The bot.")], assignments: Assignments = None
) -> None:
    """Change a bot's profile; a running server applies it to the next request."""
    from chatbot.bots import parse_assignments

    if not assignments:
        _fail("nothing to set: give name=value pairs, e.g. greeting='Hello!'", 2)
    services = _services()
    if not services.bots.exists(name):
        _fail(f"there is no bot {name!r}; create it with `chatbot bots create {name}`")
    from chatbot.audit import command_line_actor
    from chatbot.staff_actions import change_bot

    changes = parse_assignments(assignments, services.profile(name))
    change_bot(services, name, changes, command_line_actor())
    _show_profile(name, as_json=False)


@bots_app.command("delete")
def bots_delete(
    name: Annotated[str, typer.Argument(help="The bot.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a bot with its knowledge base and conversations."""
    services = _services()
    if not services.bots.exists(name):
        _fail(f"there is no bot {name!r}")
    if not yes and not typer.confirm(
        f"Delete bot {name!r} with its documents and conversations?", err=True
    ):
        raise typer.Exit(1)
    from chatbot.audit import command_line_actor
    from chatbot.staff_actions import delete_bot

    delete_bot(services, name, command_line_actor())
    print(f"deleted bot {name}")


@app.command("embed-code")
def embed_code(
    bot: BotOption = "default",
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="The address customers reach this server at [http://HOST:PORT]."
        ),
    ] = None,
) -> None:
    """The two snippets that put a bot on a website: an iframe, or a chat-bubble script."""
    from chatbot.web.snippets import embed_snippets

    services = _services()
    if not services.bots.exists(bot):
        _fail(f"there is no bot {bot!r}; `chatbot bots list` shows them")
    server = services.settings.server
    base = (url or f"http://{server.host}:{server.port}").rstrip("/")
    iframe, script = embed_snippets(base, bot, services.profile(bot).title)
    origins = services.profile(bot).allowed_origins
    print("<!-- 1. the chat inside your page -->")
    print(iframe)
    print("<!-- 2. or a chat bubble in the corner of every page -->")
    print(script)
    if not origins:
        err.print(
            f"note: no site may embed {bot!r} yet; allow yours with"
            f" `chatbot bots set {bot} allowed_origins+=https://your-shop.example`"
        )


admin_app = typer.Typer(
    help="Staff accounts of the console at /admin: owners (everything) and editors (knowledge"
    " and bot settings).",
    no_args_is_help=True,
)
app.add_typer(admin_app, name="admin")


def _new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return password


PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (scripts)."),
]


@admin_app.command("create")
def admin_create(
    username: Annotated[str, typer.Argument(help="The user name to log in with.")],
    role: Annotated[
        str, typer.Option("--role", help="owner (everything) or editor (knowledge, bots).")
    ] = "owner",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a staff account (asks for the password; there is no default one)."""
    from chatbot.accounts import Role
    from chatbot.audit import command_line_actor

    if role not in {r.value for r in Role}:
        _fail(f"role {role!r} is not one of: owner, editor", 2)
    services = _services()
    services.accounts.create(username, _new_password(password_stdin), Role(role))
    services.audit.record(command_line_actor(), "account.create", username, f"role={role}")
    print(f"created {role} {username}; log in at /admin")


@admin_app.command("list")
def admin_list(as_json: JsonOption = False) -> None:
    """The staff accounts and their roles."""
    rows = [
        {"username": account.username, "role": account.role.value, "disabled": disabled}
        for account, disabled in _services().accounts.all()
    ]
    if as_json:
        print(json.dumps(rows))
    elif not rows:
        print("no accounts yet: `chatbot admin create NAME`")
    else:
        for row in rows:
            print(f"{row['username']}\t{row['role']}{'  (disabled)' if row['disabled'] else ''}")


@admin_app.command("passwd")
def admin_passwd(
    username: Annotated[str, typer.Argument(help="The account.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set an account's password; its open sessions end."""
    from chatbot.audit import command_line_actor

    services = _services()
    services.accounts.set_password(username, _new_password(password_stdin))
    services.audit.record(command_line_actor(), "account.password", username)
    print(f"password of {username} changed")


@admin_app.command("remove")
def admin_remove(username: Annotated[str, typer.Argument(help="The account.")]) -> None:
    """Remove a staff account (not the last owner)."""
    from chatbot.audit import command_line_actor

    services = _services()
    services.accounts.remove(username)
    services.audit.record(command_line_actor(), "account.remove", username)
    print(f"removed {username}")


def main() -> None:
    """Entry point: usage errors exit 2 (typer), known failures 1 with a one-line message."""
    try:
        app()
    except KnowledgeError as exc:
        _print_error(str(exc))
        sys.exit(1)
    except Exception as exc:
        log.exception("unexpected error")
        _print_error(f"unexpected {type(exc).__name__}: {exc} (details in the log)")
        sys.exit(1)
    finally:
        if _state.services is not None:
            _state.services.close()


# The privacy and audit commands live in a module of their own; importing it registers them.
from chatbot import cli_privacy  # noqa: E402, F401
