"""What every tab of the console shares: the services, the one check of who may act, and the
helpers that show stored text safely."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from chatbot.services import Services
from chatbot.store.accounts import Account, Role
from chatbot.web.admin_auth import session_account
from chatbot.web.console_uploads import ConsoleUploads
from knowledge.documents import Hit
from knowledge.errors import KnowledgeError
from knowledge.ingest import ProgressSink

HIT_COLUMNS = ["rank", "score", "similarity", "document", "page", "section", "text"]
# What the customer was given (chatbot.answering.result.Kind), in staff's words.
KIND_LABELS = {
    "model": "the model",
    "extract": "an extract",
    "pinned": "a pinned answer",
    "fallback": "not answered",
}
# Why it was not answered (chatbot.answering.result.Fallback), in staff's words.
FALLBACK_LABELS = {
    "no_match": "nothing in the documents answered",
    "guard": "the model's answer was not in the documents",
    "model_error": "the model failed",
    "store_error": "the documents could not be searched",
    "timeout": "too slow",
    "not_ready": "the bot was not ready",
    "empty": "empty message",
    "too_long": "message too long",
}


@dataclass(frozen=True)
class Console:
    """Built once per server; each tab's handlers close over it."""

    services: Services
    public_url: Callable[[Any], str]  # this server as the staff member's browser reaches it
    uploads: ConsoleUploads

    def staff(
        self, request: Any, bot: str | None, role: Role = Role.EDITOR, *, firm: bool = False
    ) -> Account:
        """The one check every handler makes first: whose session this is, that they may see
        the bot the handler acts on (`bot`; None for a handler of no one bot), and that their
        role may do it (editors: knowledge, bot settings and the inbox; owners: everything).
        `firm`: only staff who see every bot (the firm's, not a shop's) may do it: accounts,
        making and deleting bots. A session that ended mid-page gets a clear message, not a
        stack trace. The bot is checked on every request, not only when the page was shown:
        a request made without the browser names whatever bot it likes."""
        account = session_account(self.services, request)
        if account is None:
            raise refusal("Your session has ended: reload the page and log in again.")
        if firm and not account.firm_wide:
            raise refusal("Only staff who see every bot may do this; ask your firm's owner.")
        if bot and not account.may_see(bot):
            raise refusal(f"Your account does not give you the bot “{bot}”.")
        if role is Role.OWNER and account.role is not Role.OWNER:
            raise refusal("Only an owner may do this.")
        return account

    def bot_choices(self, account: Account) -> list[str]:
        """The bots this account may see."""
        return [b for b in self.services.bot_names() if account.may_see(b)]


@contextmanager
def told_to_staff() -> Iterator[None]:
    """What an action refuses (a KnowledgeError: a taken name, a bad address) shown to staff as
    its one-line reason, kept on screen until they close it."""
    try:
        yield
    except KnowledgeError as exc:
        raise refusal(plain(str(exc)), duration=None) from exc


def refusal(sentence: str, duration: float | None = 10) -> gr.Error:
    """A refusal shown to staff in one sentence. Not written to the server's log with a
    traceback: it is the console working as meant, and the log is for faults."""
    # Headed "Not done", not Gradio's "Error": nothing went wrong, the console said no.
    return gr.Error(sentence, duration=duration, title="Not done", print_exception=False)


# A name quoted as Python prints it ('shop'), not an apostrophe inside a word (bot's).
_PYTHON_QUOTED = re.compile(r"(?<!\w)'([^'\n]+?)'(?!\w)")


def plain(reason: str) -> str:
    """An action's reason (the CLI's words: "there is no pinned answer 3 in bot 'shop'") as
    the console says it: a sentence, begun with a capital and ended with a full stop, names in
    the quotes people write (“shop”)."""
    text = _PYTHON_QUOTED.sub(lambda m: f"“{m.group(1)}”", " ".join(reason.split()))
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def warning(reason: object) -> str:
    """A refusal said beside what was pressed (Markdown), where raising it would mark the
    event's outputs: ⚠️ and the reason as a sentence, shown exactly as written."""
    return f"⚠️ {md_text(plain(str(reason)))}"


@dataclass(frozen=True)
class Confirmation:
    """A destructive action asked twice. Its button asks first: what goes is named under it
    (the document and its passages, the site and its pages) with *Yes* and *No, keep it*. Only
    *Yes* acts, and on what was named, held server-side in `target`: a choice changed in the
    meantime, or a request made without the page, removes nothing that was not named."""

    box: Any  # gr.Group, shown while the question is asked
    said: gr.Markdown
    target: gr.State
    yes: gr.Button

    @property
    def asked(self) -> list[Any]:
        """The outputs of the step that asks, and of *Yes*, which also takes the question away."""
        return [self.box, self.said, self.target]

    def ask(self, what_goes: str, target: Any) -> tuple[Any, str, Any]:
        return gr.update(visible=True), what_goes, target

    def hide(self) -> tuple[Any, str, Any]:
        return gr.update(visible=False), "", None

    def done(self, *values: Any) -> tuple[Any, ...]:
        """What *Yes* shows (`values`, its outputs before `asked`), the question gone. Taken
        away in the same step, a second press of *Yes* finds nothing to do."""
        return (*values, *self.hide())

    def nothing(self, outputs: int) -> tuple[Any, ...]:
        """*Yes* with nothing asked (pressed again, after the first press did it; or a request
        made without the page): nothing changes on screen, nothing is removed."""
        return self.done(*(gr.skip() for _ in range(outputs)))


def confirmation(yes: str, bot: Any = None) -> Confirmation:
    """The question and its two buttons, hidden until asked; `yes`: what the first does.
    `bot` (the page's bot dropdown, for a removal of one bot's things): choosing another bot
    takes the question away, as it named the other bot's."""
    target = gr.State(None)
    with gr.Group(visible=False) as box:
        said = gr.Markdown()
        with gr.Row():
            do = gr.Button(yes, variant="stop")
            keep = gr.Button("No, keep it")
    made = Confirmation(box, said, target, do)
    keep.click(made.hide, None, made.asked)
    if bot is not None:
        bot.change(made.hide, None, made.asked)
    return made


def confirmed(target: Any, bot: str | None = None) -> Any:
    """What staff said *Yes* to (the thing named when asked), or None when nothing is asked of
    this bot: pressed again after the first *Yes*, or asked of another bot than the one now
    chosen."""
    if target is None or (bot is not None and target[0] != bot):
        return None
    return target[1]


def counted(n: int, noun: str) -> str:
    """ "1 conversation", "3 conversations"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def short_ref(reference: str) -> str:
    """A conversation's reference as tables show it: its first 8 characters, enough to tell
    it from the others beside it; 32 would push a table's last columns off a tablet."""
    return reference[:8] + "…" if len(reference) > 8 else reference


def short_refs(text: str) -> str:
    """Every conversation reference in `text` shortened (an audit entry's target)."""
    return _REFERENCE.sub(lambda m: short_ref(m.group(0)), text)


_REFERENCE = re.compile(r"\b[0-9a-f]{32}\b")


def when(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


_MARKDOWN_SIGNS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def md_address(url: str) -> str:
    """A web address shown in Markdown exactly, as code: no link is made of it (the console
    never links to what a crawled site or a customer wrote), and escapes are not shown."""
    return "`" + html.escape(url.replace("`", "%60").replace("\n", " "), quote=False) + "`"


def md_text(text: str) -> str:
    """`text` to show inside Markdown exactly as written: no link, image, emphasis or HTML."""
    return html.escape(_MARKDOWN_SIGNS.sub(r"\\\1", text), quote=False)


def hit_rows(hits: list[Hit]) -> list[list[Any]]:
    """Search hits as the console's table rows: rank, scores, where, text."""
    return [
        [
            i,
            round(h.score, 4),
            "" if h.similarity is None else round(h.similarity, 3),
            h.source,
            h.page or "",
            h.section,
            h.text,
        ]
        for i, h in enumerate(hits, 1)
    ]


class GradioProgress(ProgressSink):
    """An ingest's progress (files, a long PDF's pages, passages embedded) as Gradio's bar."""

    def __init__(self, progress: Any) -> None:
        self._progress, self._files, self._done, self._name = progress, 1, 0, ""

    def files(self, total: int) -> None:
        self._files = max(total, 1)

    def file_started(self, path: Path) -> None:
        self._name = path.name
        self._progress(self._done / self._files, desc=f"reading {self._name}")

    def pages(self, read: int, total: int) -> None:
        self._progress(self._done / self._files, desc=f"reading {self._name}: page {read}/{total}")

    def chunks(self, done: int, total: int) -> None:
        share = (self._done + done / max(total, 1)) / self._files
        self._progress(share, desc=f"indexing {self._name}: {done}/{total} passages")

    def file_done(self, path: Path) -> None:
        self._done += 1


def job_lines(services: Services, bot: str) -> str:
    """The bot's latest jobs (uploads, website reads), as any server reads them from the
    database; nothing without a job queue."""
    if not bot or not services.has_job_queue:
        return ""
    lines = []
    for job in services.ingest_jobs.of_bot(bot, limit=5):
        what = "upload" if job.kind == "files" else f"read of {md_address(job.target)}"
        lines.append(
            f"- **job {job.id}**, {what} ({when(job.created_at)}, {md_text(job.actor)}):"
            f" {job.state}, {md_text(job.progress)}"
        )
        for file in job.files:
            told = f": {md_text(file.detail)}" if file.detail else ""
            lines.append(f"    - {md_text(file.name)}: {file.outcome or 'waiting'}{told}")
    return "#### Uploads and reads in progress\n" + "\n".join(lines) if lines else ""
