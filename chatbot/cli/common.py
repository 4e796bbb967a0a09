"""What every command shares: the root Typer app, the services (built once per run), options,
one-line errors, and the progress bars of long jobs."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from typing import Annotated, NoReturn, TextIO

import typer
from rich.console import Console
from rich.progress import (
    Progress,
    TaskID,
)

from chatbot.logs import configure_logging
from chatbot.services import Services
from chatbot.settings import load_settings
from knowledge.ingest import IngestReport, ProgressSink

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


# Characters a terminal obeys rather than shows: C0 and C1 controls (an escape sequence in a
# file name recoloured, moved or retitled the terminal) and the bidirectional overrides that
# make a name read differently from what it is. Newlines and tabs are the output's own.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """`text` with every control character written as its \\u escape: visible, inert, and
    still valid inside a JSON string."""
    return _CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class ShownOutput(io.TextIOBase):
    """The command line's standard output: everything printed goes through `shown`, so no
    name, title, URL or passage from a document or a website reaches the terminal as control
    codes, whichever command prints it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(shown(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding


def _print_error(message: str) -> None:
    # Plain print, not rich: an error is one line however narrow the terminal.
    print(f"error: {shown(' '.join(message.split()))}", file=sys.stderr)


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
        self._progress.update(self._files, description=shown(path.name[:40]))

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
