"""The staff console at /admin: a Gradio app behind the login of admin_auth.py.

Every handler looks up the staff account of its request (a session that expired mid-page gets a
clear error, not a stack trace) and checks the role: editors manage knowledge and bot settings;
owners also read conversations and the audit log. Each action goes through staff_actions.py or
is audited here, so the audit log misses nothing the console does.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import gradio as gr

from chatbot.actions import accounts as account_actions
from chatbot.actions.bots import change_bot, create_bot, delete_bot
from chatbot.actions.knowledge import (
    forget_document,
    ingest_files,
    refuse_upload,
    retitle_document,
)
from chatbot.actions.knowledge import (
    reindex as reindex_bot,
)
from chatbot.actions.pins import pin_answer, unpin_answer
from chatbot.actions.privacy import NoSuchCustomer, erase_customer, find_customer, open_transcript
from chatbot.llm.select import ollama_models
from chatbot.privacy.notice import DEFAULT_NOTICES
from chatbot.services import Services
from chatbot.store.accounts import Account, Role
from chatbot.store.gaps import group_gaps, normalise
from chatbot.store.personal_data import ConversationRef
from chatbot.web.admin_auth import COOKIE, session_account
from chatbot.web.console_uploads import NOT_UPLOADED, ConsoleUploads
from chatbot.web.customer_export import EXPORT_PATH
from chatbot.web.snippets import embed_snippets
from knowledge.documents import Hit
from knowledge.errors import KnowledgeError
from knowledge.ingest import IngestReport, ProgressSink

# System fonts: Gradio's default theme makes every browser fetch Google Fonts.
_FONTS = ("ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif")
_MONO = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")

DOC_COLUMNS = ["document", "title customers see", "status", "pages", "chunks", "when", "note"]
HIT_COLUMNS = ["rank", "score", "similarity", "document", "page", "section", "text"]
ANSWER_COLUMNS = ["when", "conversation", "question", "answered by", "why not", "rating", "sources"]
# What the customer was given (chatbot.answering.result.Kind), in staff's words.
KIND_LABELS = {
    "model": "the model",
    "extract": "an extract",
    "pinned": "a pinned answer",
    "fallback": "not answered",
}
_RATING = {1: "👍", -1: "👎", None: ""}
DEPLOYMENT_MODEL = "(the deployment's model)"
GAP_COLUMNS = ["question", "asked", "last asked", "conversations", "also asked as"]
PIN_COLUMNS = ["#", "question", "answer", "by", "when"]
AUDIT_COLUMNS = ["when", "who", "action", "what", "detail"]
CUSTOMER_COLUMNS = ["bot", "conversation", "agreed at", "turns", "kept"]
NOTICE_LANGUAGES: tuple[Literal["en", "ms", "zh"], ...] = ("en", "ms", "zh")


def _default_notices() -> list[tuple[str, str]]:
    names = {"en": "English", "ms": "Malay", "zh": "Chinese"}
    values = {"business": "<business name>", "days": "<days>"}
    return [(names[lang], DEFAULT_NOTICES[lang].format(**values)) for lang in NOTICE_LANGUAGES]


def _when(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


class _GradioProgress(ProgressSink):
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


def build_console(
    services: Services, public_url: Callable[[Any], str], uploads: ConsoleUploads
) -> Any:
    def staff(request: Any, role: Role = Role.EDITOR) -> Account:
        account = session_account(services, request)
        if account is None:
            raise gr.Error("Your session has ended: reload the page and log in again.")
        if role is Role.OWNER and account.role is not Role.OWNER:
            raise gr.Error("Only an owner may do this.")
        return account

    def bot_choices() -> list[str]:
        return services.bot_names()

    # -- knowledge --------------------------------------------------------------------
    def documents(bot: str) -> list[list[Any]]:
        if not bot:
            return []
        indexed = {d.source: d for d in services.knowledge(bot).documents()}
        rows: list[list[Any]] = []
        for upload in services.uploads.latest(bot):
            record = indexed.pop(upload.source, None)
            if upload.status == "rejected":
                rows.append(
                    [upload.source, "", "rejected", "", "", _when(upload.at), upload.reason]
                )
            elif record is not None:
                when = _when(upload.at)
                note = upload.reason  # personal data found in it, if any
                rows.append(
                    [
                        record.source,
                        record.title,
                        "ingested",
                        record.pages,
                        record.chunks,
                        when,
                        note,
                    ]
                )
        for record in indexed.values():  # ingested before uploads were recorded
            rows.append(
                [record.source, record.title, "ingested", record.pages, record.chunks, "", ""]
            )
        return rows

    def upload(  # type: ignore[no-untyped-def]
        bot: str,
        files: list[Any] | None,
        mask_personal_data: bool,
        request: gr.Request,
        progress=gr.Progress(),  # noqa: B008 - Gradio's way of asking for a progress bar
    ):
        account = staff(request)
        if not bot:
            raise gr.Error("Choose or create a bot first.")
        given = [str(f if isinstance(f, str) else f.name) for f in files or []]
        if not given:
            raise gr.Error("Choose one or more files to upload.")
        # Only what this staff session uploaded itself: Gradio's API takes any path.
        paths, refused = uploads.claim(request.cookies.get(COOKIE), given)
        if refused:
            refuse_upload(services, bot, refused, account.username)
        try:
            report = (
                ingest_files(
                    services,
                    bot,
                    paths,
                    account.username,
                    _GradioProgress(progress),
                    mask_personal_data=mask_personal_data,
                )
                if paths
                else IngestReport()
            )
        finally:
            uploads.discard(paths)  # the knowledge base keeps what it needs; the copies go
        rejected = [(p.name, why) for p, why in report.rejected]
        rejected += [(name, NOT_UPLOADED) for name in refused]
        lines = [
            f"**{len(report.ingested)} ingested** ({sum(n for _, n in report.ingested)} passages),"
            f" {len(report.unchanged)} unchanged, **{len(rejected)} rejected**"
        ]
        # File names are the uploader's words: shown as text, never as Markdown.
        lines += [f"- rejected: {_md_text(name)}: {_md_text(why)}" for name, why in rejected]
        lines += [f"- {_md_text(p.name)}: {_md_text(note)}" for p, note in report.notes]
        if any(note.endswith("not masked") for _, note in report.notes):
            lines.append("\nTo mask it, tick *Mask personal data* and add the file again.")
        return "\n".join(lines), *document_lists(bot), None

    def document_lists(bot: str) -> list[Any]:
        """The documents table and the choice of documents to preview or delete, refreshed."""
        sources = [d.source for d in services.knowledge(bot).documents()] if bot else []
        return [documents(bot), gr.update(choices=sources, value=None)]

    def delete_document(bot: str, source: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        account = staff(request)
        if not source:
            raise gr.Error("Choose a document to delete.")
        forget_document(services, bot, source, account.username)
        return f"Deleted {source}.", *document_lists(bot)

    def retitle(bot: str, source: str | None, title: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = staff(request)
        if not source:
            raise gr.Error("Choose a document to rename.")
        try:
            retitle_document(services, bot, source, title or "", account.username)
        except KnowledgeError as exc:
            raise gr.Error(str(exc), duration=None) from exc
        return f"Customers now see {_md_text(source)} as “{_md_text(title.strip())}”.", documents(
            bot
        )

    def preview(bot: str, source: str | None, request: gr.Request) -> list[list[Any]]:
        staff(request)
        if not source:
            raise gr.Error("Choose a document to preview.")
        return [
            [c.ordinal + 1, c.page or "", c.section, c.text]
            for c in services.knowledge(bot).chunks_of(source)
        ]

    def try_search(bot: str, query: str, request: gr.Request) -> list[list[Any]]:
        staff(request)
        return _hit_rows(services.knowledge(bot).search(query, k=services.settings.retrieval.k))

    # -- try the bot ------------------------------------------------------------------
    def try_bot(bot: str, question: str, request: gr.Request) -> tuple[str, list[list[Any]]]:
        staff(request)
        if not question.strip():
            raise gr.Error("Type a question.")
        answerer = services.answerer(bot)
        hits = services.knowledge(bot).search(question, k=services.settings.answering.passages)
        answer = answerer.answer(question)
        verdict = (
            f"answered by {KIND_LABELS[answer.kind]}"
            if answer.answered
            else f"not answered ({answer.fallback})"
        )
        text = f"{_md_text(answer.text)}\n\n*{verdict}; model {_md_text(answer.model or 'none')}*"
        return text, _hit_rows(hits)

    # -- bot settings -----------------------------------------------------------------
    def model_choices() -> list[str]:
        return [DEPLOYMENT_MODEL, "embedded", *ollama_models(services.settings.model)]

    def load_profile(bot: str, request: gr.Request) -> list[Any]:
        models = model_choices()
        if not bot:
            empty = gr.update(choices=models, value=DEPLOYMENT_MODEL)
            return [
                empty, "default", *[""] * 10, "#0f766e", "", "", 8, 120, 1000, 40, [], 30,
                "", "", "", "",
            ]  # fmt: skip
        p = services.profile(bot)
        iframe, script = embed_snippets(public_url(request), bot, p.title)
        chosen = p.model or DEPLOYMENT_MODEL
        return [
            gr.update(choices=sorted({*models, chosen}), value=chosen),
            p.answer_mode,
            p.business,
            p.title,
            p.greeting,
            p.persona,
            p.contact,
            p.phone,
            p.whatsapp,
            p.email,
            p.hours,
            p.avatar,
            p.colour,
            "\n".join(p.suggestions),
            "\n".join(p.allowed_origins),
            p.limits.visitor_messages_per_minute,
            p.limits.bot_messages_per_minute,
            p.limits.max_message_chars,
            p.limits.max_turns,
            list(p.languages),
            p.retention_days,
            *(p.privacy_notice.get(lang, "") for lang in NOTICE_LANGUAGES),
            f"{iframe}\n\n{script}",
        ]

    def show_bot(bot: str, request: gr.Request) -> list[Any]:
        """The chosen bot's documents, document choices and settings, filled in one step; first,
        whose settings the form now holds (Save checks it)."""
        return [bot, *document_lists(bot), *load_profile(bot, request)]

    def save_profile(
        bot: str,
        form_of: str,
        business: str,
        title: str,
        greeting: str,
        persona: str,
        contact: str,
        phone: str,
        whatsapp: str,
        email: str,
        hours: str,
        avatar: str,
        colour: str,
        suggestions: str,
        origins: str,
        per_visitor: float,
        per_bot: float,
        max_chars: float,
        max_turns: float,
        languages: list[str],
        retention_days: float,
        notice_en: str,
        notice_ms: str,
        notice_zh: str,
        model: str,
        answer_mode: str,
        request: gr.Request,
    ) -> str:
        account = staff(request)
        if not bot:
            raise gr.Error("Choose or create a bot first.")
        if form_of != bot:  # chosen a moment ago: the form still holds another bot's settings
            raise gr.Error(f"The settings of {bot} are still loading; check them, then save.")
        changes: dict[str, Any] = {
            "languages": list(languages or []),
            "model": "" if model == DEPLOYMENT_MODEL else model,
            "answer_mode": answer_mode,
            "business": business,
            "title": title,
            "greeting": greeting,
            "persona": persona,
            "contact": contact,
            "phone": phone.strip(),
            "whatsapp": whatsapp.strip(),
            "email": email.strip(),
            "hours": hours.strip(),
            "avatar": avatar.strip(),
            "colour": colour,
            "suggestions": [s.strip() for s in suggestions.splitlines() if s.strip()],
            "allowed_origins": [o.strip() for o in origins.splitlines() if o.strip()],
            "limits.visitor_messages_per_minute": int(per_visitor or 0),
            "limits.bot_messages_per_minute": int(per_bot or 0),
            "limits.max_message_chars": int(max_chars or 0),
            "limits.max_turns": int(max_turns or 0),
            "retention_days": int(retention_days if retention_days is not None else 30),
            "privacy_notice": {
                lang: text.strip()
                for lang, text in zip(
                    NOTICE_LANGUAGES, (notice_en, notice_ms, notice_zh), strict=True
                )
                if text.strip()
            },
        }
        current = services.profile(bot).model_dump(mode="json")
        changed = {k: v for k, v in changes.items() if _current(current, k) != v}
        if not changed:
            return "Nothing changed."
        try:
            change_bot(services, bot, changed, account.username)
        except KnowledgeError as exc:
            raise gr.Error(str(exc), duration=None) from exc
        return f"Saved: {', '.join(changed)}. The chat uses it from the next message."

    def new_bot(name: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = staff(request)
        try:
            create_bot(services, name.strip(), {}, account.username)
        except KnowledgeError as exc:
            raise gr.Error(str(exc), duration=None) from exc
        return gr.update(choices=bot_choices(), value=name.strip()), ""

    # -- conversations and audit (owners) ---------------------------------------------
    def conversations(
        bot: str, which: str, days: float | None, request: gr.Request
    ) -> list[list[Any]]:
        staff(request, Role.OWNER)
        answered = {"answered": True, "not answered": False}.get(which)
        since = time.time() - float(days or 3650) * 86400
        rows = services.conversations.recent(
            bot, answered=answered, rated_down=which == "rated down", since=since
        )
        return [
            [
                _when(r["created_at"]),
                r["conversation_id"],
                r["question"],
                KIND_LABELS.get(r["kind"], r["kind"]),
                r["fallback"] or "",
                _RATING.get(r["rating"], ""),
                ", ".join(sorted({s.get("title") or s["source"] for s in r["sources"]})),
            ]
            for r in rows
        ]

    def transcript(bot: str, conversation_id: str, request: gr.Request) -> str:
        account = staff(request, Role.OWNER)
        ref = ConversationRef(bot, conversation_id.strip())
        turns = open_transcript(services, account.username, ref)
        if not turns:
            raise gr.Error(f"No conversation {conversation_id!r} with bot {bot!r}.")
        return _transcript_html(turns)

    # -- customers' requests (owners) --------------------------------------------------
    def _asked_by(asked: str) -> tuple[str, str]:
        """("conversation" | "contact", what staff typed): a 32-hex text is a reference."""
        asked = asked.strip()
        if not asked:
            raise gr.Error("Type a conversation id, an e-mail address or a phone number.")
        by_id = re.fullmatch(r"[0-9a-fA-F]{32}", asked) is not None
        return ("conversation" if by_id else "contact"), asked

    def _customer_refs(asked: str, account: Any) -> list[Any]:
        selector, value = _asked_by(asked)
        try:
            return find_customer(services, account.username, **{selector: value})
        except NoSuchCustomer:
            return []
        except KnowledgeError as exc:
            raise gr.Error(str(exc), duration=None) from exc

    def customer_conversations(asked: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = staff(request, Role.OWNER)
        refs = _customer_refs(asked, account)
        if not refs:
            return [], "Nothing is held of this customer.", ""
        held = services.personal_data.export(refs)
        rows = [
            [
                c["bot"],
                c["conversation_id"],
                c["consent"]["at"] if c["consent"] else "",
                len(c["turns"]),
                "yes" if c["consent"] and c["consent"]["kept"] else "no",
            ]
            for c in held
        ]
        link = f"{EXPORT_PATH}?{urlencode(dict([_asked_by(asked)]))}"
        return rows, f"[Download everything held, as JSON]({link})", ""

    def erase_customer_data(asked: str, sure: bool, request: gr.Request):  # type: ignore[no-untyped-def]
        account = staff(request, Role.OWNER)
        if not sure:
            raise gr.Error("Tick the box to confirm the erasure first.")
        refs = _customer_refs(asked, account)
        if not refs:
            return [], "", "Nothing is held of this customer.", False
        erase_customer(services, account.username, refs)
        return [], "", f"Erased {len(refs)} conversations.", False

    def audit_rows(request: gr.Request) -> list[list[Any]]:
        staff(request, Role.OWNER)
        return [
            [_when(e.at), e.actor, e.action, e.target, e.detail] for e in services.audit.entries()
        ]

    # -- gaps and pinned answers ------------------------------------------------------
    def gap_rows(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        staff(request)
        gaps = group_gaps(services.conversations.gaps(bot), services.embedder.embed_documents)
        rows = [
            [
                g.question,
                g.asked,
                _when(g.last_asked),
                " ".join(g.conversations[:3]),  # open one in Conversations to read it whole
                " / ".join(g.wordings[1:4]),
            ]
            for g in gaps
        ]
        return rows, gr.update(choices=[g.question for g in gaps], value=None)

    def pin(bot: str, question: str, answer: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = staff(request)
        try:
            pin_answer(services, bot, question or "", answer or "", account.username)
        except KnowledgeError as exc:
            raise gr.Error(str(exc), duration=None) from exc
        return (
            f"Pinned. Customers asking “{question.strip()}” now get this answer.",
            pin_rows(bot),
            "",
        )

    def pin_rows(bot: str) -> list[list[Any]]:
        return (
            [
                [p.id, p.question, p.answer, p.actor, _when(p.created_at)]
                for p in services.pins.all(bot)
            ]
            if bot
            else []
        )

    def unpin(bot: str, pin_id: float | None, request: gr.Request):  # type: ignore[no-untyped-def]
        account = staff(request)
        try:
            unpin_answer(services, bot, int(pin_id or 0), account.username)
        except KnowledgeError as exc:
            raise gr.Error(str(exc), duration=None) from exc
        return f"Removed pinned answer {int(pin_id or 0)}.", pin_rows(bot)

    # -- how the bot is doing ---------------------------------------------------------
    def stats(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        import pandas as pd

        staff(request)
        since = time.time() - 30 * 86400
        rows = services.conversations.since(bot, since)
        days: dict[str, list[int]] = {}
        for r in rows:
            day = dt.date.fromtimestamp(r["created_at"]).isoformat()
            counts = days.setdefault(day, [0, 0, 0])
            counts[0] += 1
            counts[1] += bool(r["answered"])
            counts[2] += r["rating"] == -1
        # Every day of the month, quiet ones as zero, so that the bars stand on a common floor.
        today = dt.date.today()
        frame = []
        for back in range(29, -1, -1):
            day = (today - dt.timedelta(days=back)).isoformat()
            n, a, down = days.get(day, [0, 0, 0])
            frame.append(
                {
                    "day": day[5:],
                    "questions": n,
                    "answered %": round(100 * a / n) if n else None,
                    "rated down %": round(100 * down / n) if n else None,
                }
            )
        per_day = pd.DataFrame(frame, columns=["day", "questions", "answered %", "rated down %"])
        asked: dict[str, list[Any]] = {}
        for r in rows:
            entry = asked.setdefault(normalise(r["question"]), [r["question"], 0])
            entry[1] += 1
        top = sorted(asked.values(), key=lambda e: e[1], reverse=True)[:10]
        total = len(rows)
        answered = sum(bool(r["answered"]) for r in rows)
        down = sum(r["rating"] == -1 for r in rows)
        by_kind = {kind: sum(r["kind"] == kind for r in rows) for kind in ("model", "extract")}
        by_kind["pinned"] = sum(r["kind"] == "pinned" for r in rows)
        summary = (
            f"Last 30 days: **{total} questions**, {round(100 * answered / total) if total else 0}%"
            f" answered ({by_kind['model']} by the model, {by_kind['extract']} by an extract"
            f" from the documents, {by_kind['pinned']} by a pinned answer),"
            f" {round(100 * down / total) if total else 0}% rated down."
        )
        top_frame = pd.DataFrame(
            [{"question": q[:60], "asked": n} for q, n in top], columns=["question", "asked"]
        )
        return summary, per_day, per_day, top_frame

    # -- bots and accounts (owners) ---------------------------------------------------
    def remove_bot(bot: str, confirmed: bool, request: gr.Request):  # type: ignore[no-untyped-def]
        account = staff(request, Role.OWNER)
        if not confirmed:
            raise gr.Error("Tick the box to confirm: the bot's documents and conversations go too.")
        try:
            delete_bot(services, bot, account.username)
        except KnowledgeError as exc:
            raise gr.Error(str(exc), duration=None) from exc
        choices = bot_choices()
        return gr.update(choices=choices, value=choices[0] if choices else None), False

    def reindex(bot: str, request: gr.Request, progress=gr.Progress()):  # type: ignore[no-untyped-def]  # noqa: B008
        account = staff(request)
        done = reindex_bot(
            services,
            bot,
            account.username,
            lambda n, total: progress(n / max(total, 1), desc=f"{n}/{total} passages"),
        )
        return f"Re-indexed {done} passages."

    def account_rows(request: gr.Request) -> list[list[Any]]:
        staff(request, Role.OWNER)
        return [
            [a.username, a.role.value, "disabled" if disabled else ""]
            for a, disabled in services.accounts.all()
        ]

    def add_account(username: str, role: str, password: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = staff(request, Role.OWNER)
        try:
            account_actions.create_account(
                services, username, password, Role(role), account.username
            )
        except KnowledgeError as exc:
            raise gr.Error(str(exc), duration=None) from exc
        return account_rows(request), "", ""

    def drop_account(username: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = staff(request, Role.OWNER)
        if username.strip() == account.username:
            raise gr.Error("You cannot remove your own account while logged in with it.")
        try:
            account_actions.remove_account(services, username, account.username)
        except KnowledgeError as exc:
            raise gr.Error(str(exc), duration=None) from exc
        return account_rows(request), ""

    # -- the page ---------------------------------------------------------------------
    def on_load(request: gr.Request):  # type: ignore[no-untyped-def]
        account = staff(request)
        choices = bot_choices()
        first = choices[0] if choices else None
        owner = account.role is Role.OWNER
        who = f"Logged in as **{account.username}** ({account.role.value})"
        return (
            who,
            gr.update(choices=choices, value=first),
            gr.update(visible=owner),
            gr.update(visible=owner),
            gr.update(visible=owner),
            gr.update(visible=owner),
            gr.update(visible=owner),
        )

    with gr.Blocks(title="Chatbot console", analytics_enabled=False) as console:
        with gr.Row():
            who = gr.Markdown()
            gr.HTML(
                '<form method="post" action="/admin/logout" style="text-align:right">'
                '<button type="submit" class="lg secondary">Log out</button></form>'
            )
        with gr.Row():
            bot = gr.Dropdown(label="Bot", choices=[], scale=3)
            form_of = gr.State("")  # the bot whose settings the form holds
            new_name = gr.Textbox(label="New bot", placeholder="name: a-z, 0-9, - and _", scale=2)
            create = gr.Button("Create bot", scale=1)
        with gr.Row(visible=False) as bot_danger:
            sure = gr.Checkbox(label="Delete this bot with its documents and conversations")
            drop = gr.Button("Delete bot", variant="stop")
        with gr.Tab("Knowledge"):
            files = gr.File(label="Upload documents", file_count="multiple", type="filepath")
            mask_data = gr.Checkbox(
                label="Mask personal data before indexing",
                info="Identity-card, phone, card and passport numbers and email addresses are"
                " found in every upload and reported; ticked, they are masked too. Leave it off"
                " for documents whose contact details customers should be given.",
                value=False,
            )
            with gr.Row():
                add = gr.Button("Add to the knowledge base", variant="primary", scale=3)
                rebuild = gr.Button("Re-index all passages", scale=1)
            outcome = gr.Markdown()
            docs = gr.Dataframe(headers=DOC_COLUMNS, label="Documents", interactive=False)
            with gr.Row():
                chosen = gr.Dropdown(label="Document", choices=[], scale=3)
                show = gr.Button("Preview passages", scale=1)
                remove = gr.Button("Delete document", variant="stop", scale=1)
            with gr.Row():
                new_title = gr.Textbox(
                    label="Title customers see for this document",
                    info="Shown under answers from it, instead of its file name.",
                    scale=4,
                )
                rename = gr.Button("Set title", scale=1)
            passages = gr.Dataframe(
                headers=["#", "page", "section", "text"], label="Passages", interactive=False
            )
            with gr.Row():
                query = gr.Textbox(label="Try a search", scale=4)
                search = gr.Button("Search", scale=1)
            hits = gr.Dataframe(
                headers=HIT_COLUMNS, label="What would be retrieved", interactive=False
            )
        with gr.Tab("Try the bot"):
            question = gr.Textbox(label="Ask as a customer would")
            ask = gr.Button("Ask", variant="primary")
            reply = gr.Markdown()
            used = gr.Dataframe(headers=HIT_COLUMNS, label="Passages retrieved", interactive=False)
        with gr.Tab("Bot settings"):
            business = gr.Textbox(label="Business name (in the prompt)")
            title = gr.Textbox(label="Title (above the chat)")
            greeting = gr.Textbox(label="Greeting", lines=2)
            persona = gr.Textbox(label="Persona and tone (added to the prompt)", lines=2)
            contact = gr.Textbox(label="How to reach a person when the bot cannot help")
            with gr.Row():
                phone = gr.Textbox(label="Phone")
                whatsapp = gr.Textbox(label="WhatsApp number (+60…)")
                email = gr.Textbox(label="E-mail")
                hours = gr.Textbox(label="Opening hours")
            avatar = gr.Textbox(label="Avatar URL (https://… or /path)")
            colour = gr.ColorPicker(label="Colour")
            suggestions = gr.Textbox(label="Suggested questions, one a line", lines=3)
            origins = gr.Textbox(
                label="Sites allowed to embed the bot, one a line (https://shop.example)", lines=2
            )
            with gr.Row():
                per_visitor = gr.Number(label="Messages a visitor a minute", precision=0)
                per_bot = gr.Number(label="Messages the bot a minute", precision=0)
                max_chars = gr.Number(label="Longest message (characters)", precision=0)
                max_turns = gr.Number(label="Questions a conversation", precision=0)
            languages = gr.CheckboxGroup(
                ["en", "ms", "zh", "ja", "ko"],
                label="Languages it answers in (none ticked: the customer's own; else the first"
                " ticked for any other)",
            )
            with gr.Row():
                model = gr.Dropdown(
                    label="Chat model (Ollama's models, or the embedded one)",
                    choices=[DEPLOYMENT_MODEL],
                    allow_custom_value=True,
                )
                answer_mode = gr.Radio(
                    ["default", "auto", "generate", "extract"],
                    value="default",
                    label="Answer mode (auto: checked against the sources; extract: quotes only)",
                )
            with gr.Accordion("Privacy", open=False):
                retention = gr.Number(
                    label="Keep conversations for (days); then they are deleted. 0: deleted at"
                    " the next hourly purge.",
                    precision=0,
                )
                gr.Markdown(
                    "The privacy notice customers agree to before chatting. Left empty, a"
                    " default in plain words is shown (see docs/PDPA.md); any change asks"
                    " customers to agree again."
                )
                notices = [
                    gr.Textbox(label=f"Privacy notice ({name})", lines=3, placeholder=default)
                    for name, default in _default_notices()
                ]
            save = gr.Button("Save", variant="primary")
            saved = gr.Markdown()
            snippets = gr.Code(label="Embed on your website", language="html", interactive=False)
        with gr.Tab("Gaps"):
            gr.Markdown(
                "Questions the bot could not answer or customers rated down, grouped when they"
                " ask the same thing. Write the right answer once: customers asking it again get"
                " it as written."
            )
            show_gaps = gr.Button("Refresh")
            gap_table = gr.Dataframe(headers=GAP_COLUMNS, label="Open questions", interactive=False)
            gap_question = gr.Dropdown(
                label="Question to answer", choices=[], allow_custom_value=True
            )
            gap_answer = gr.Textbox(label="The right answer", lines=3)
            pin_it = gr.Button("Pin this answer", variant="primary")
            pinned_note = gr.Markdown()
            pinned = gr.Dataframe(headers=PIN_COLUMNS, label="Pinned answers", interactive=False)
            with gr.Row():
                unpin_id = gr.Number(label="Pinned answer #", precision=0, scale=3)
                unpin_it = gr.Button("Remove pinned answer", scale=1)
        with gr.Tab("How it is doing"):
            show_stats = gr.Button("Refresh")
            summary = gr.Markdown()
            questions_plot = gr.BarPlot(
                x="day", y="questions", title="Questions a day", y_lim=[0, None]
            )
            answered_plot = gr.BarPlot(
                x="day", y="answered %", title="Answered, % of questions", y_lim=[0, 100]
            )
            top_plot = gr.BarPlot(
                x="question", y="asked", title="Most asked", sort="-y", y_lim=[0, None]
            )
        with gr.Tab("Conversations", visible=False) as conversations_tab:
            with gr.Row():
                which = gr.Radio(
                    ["all", "answered", "not answered", "rated down"], value="all", label="Show"
                )
                days = gr.Number(value=30, precision=0, label="Last … days")
                refresh = gr.Button("Refresh")
            answers = gr.Dataframe(
                headers=ANSWER_COLUMNS, label="Recent answers", interactive=False
            )
            with gr.Row():
                conversation = gr.Textbox(label="Conversation id", scale=4)
                open_it = gr.Button("Open transcript", scale=1)
            shown = gr.HTML()  # built by _transcript_html: every word escaped
        with gr.Tab("Accounts", visible=False) as accounts_tab:
            show_accounts = gr.Button("Refresh")
            account_table = gr.Dataframe(
                headers=["user name", "role", ""], label="Staff accounts", interactive=False
            )
            with gr.Row():
                new_user = gr.Textbox(label="User name")
                new_role = gr.Radio(["editor", "owner"], value="editor", label="Role")
                new_password = gr.Textbox(label="Password (10+ characters)", type="password")
                make_account = gr.Button("Create account")
            with gr.Row():
                old_user = gr.Textbox(label="User name to remove", scale=3)
                remove_account = gr.Button("Remove account", variant="stop", scale=1)
        with gr.Tab("Customer data", visible=False) as privacy_tab:
            gr.Markdown(
                "A customer asks to see, take away or erase what you hold of them (PDPA):"
                " find their conversations by the conversation reference the chat shows them, or by"
                " an e-mail address or phone number they gave. Each search, export and erasure"
                " is written in the audit log."
            )
            with gr.Row():
                customer = gr.Textbox(
                    label="Conversation id, e-mail address or phone number", scale=3
                )
                find_customer_button = gr.Button("Find", variant="primary", scale=1)
            customer_rows = gr.Dataframe(
                headers=CUSTOMER_COLUMNS, label="Their conversations", interactive=False
            )
            customer_export = gr.Markdown()
            with gr.Row():
                erase_sure = gr.Checkbox(label="Erase these conversations for good", scale=3)
                erase_button = gr.Button("Erase", variant="stop", scale=1)
            erase_note = gr.Markdown()
        with gr.Tab("Audit log", visible=False) as audit_tab:
            reload_audit = gr.Button("Refresh")
            audit = gr.Dataframe(headers=AUDIT_COLUMNS, interactive=False)

        profile_fields = [
            business,
            title,
            greeting,
            persona,
            contact,
            phone,
            whatsapp,
            email,
            hours,
            avatar,
            colour,
            suggestions,
            origins,
            per_visitor,
            per_bot,
            max_chars,
            max_turns,
            languages,
            retention,
            *notices,
            model,
            answer_mode,
        ]
        console.load(
            on_load,
            outputs=[who, bot, conversations_tab, audit_tab, accounts_tab, bot_danger, privacy_tab],
        )
        find_customer_button.click(
            customer_conversations, customer, [customer_rows, customer_export, erase_note]
        )
        customer.submit(
            customer_conversations, customer, [customer_rows, customer_export, erase_note]
        )
        erase_button.click(
            erase_customer_data,
            [customer, erase_sure],
            [customer_rows, customer_export, erase_note, erase_sure],
        )
        drop.click(remove_bot, [bot, sure], [bot, sure])
        rebuild.click(reindex, bot, outcome)
        show_accounts.click(account_rows, None, account_table)
        make_account.click(
            add_account, [new_user, new_role, new_password], [account_table, new_user, new_password]
        )
        remove_account.click(drop_account, old_user, [account_table, old_user])
        # One event fills everything that belongs to the chosen bot. As a chain of events, a
        # choice made while the previous bot was still loading could be dropped half-way (Gradio
        # skips a step of the chain while the same step is running for the earlier choice),
        # leaving one bot's settings in the form under another's name, where Save would store them.
        bot.change(
            show_bot,
            bot,
            [form_of, docs, chosen, model, answer_mode, *profile_fields[:-2], snippets],
        )
        create.click(new_bot, new_name, [bot, new_name])
        add.click(upload, [bot, files, mask_data], [outcome, docs, chosen, files])
        remove.click(delete_document, [bot, chosen], [outcome, docs, chosen])
        rename.click(retitle, [bot, chosen, new_title], [outcome, docs])
        show.click(preview, [bot, chosen], passages)
        search.click(try_search, [bot, query], hits)
        query.submit(try_search, [bot, query], hits)
        ask.click(try_bot, [bot, question], [reply, used])
        question.submit(try_bot, [bot, question], [reply, used])
        save.click(save_profile, [bot, form_of, *profile_fields], saved).then(
            load_profile, bot, [model, answer_mode, *profile_fields[:-2], snippets]
        )
        refresh.click(conversations, [bot, which, days], answers)
        which.change(conversations, [bot, which, days], answers)
        open_it.click(transcript, [bot, conversation], shown)
        reload_audit.click(audit_rows, None, audit)
        show_gaps.click(gap_rows, bot, [gap_table, gap_question]).then(pin_rows, bot, pinned)
        pin_it.click(pin, [bot, gap_question, gap_answer], [pinned_note, pinned, gap_answer])
        unpin_it.click(unpin, [bot, unpin_id], [pinned_note, pinned])
        show_stats.click(stats, bot, [summary, questions_plot, answered_plot, top_plot])
    return console


_MARKDOWN_SIGNS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def _md_text(text: str) -> str:
    """`text` to show inside Markdown exactly as written: no link, image, emphasis or HTML."""
    return html.escape(_MARKDOWN_SIGNS.sub(r"\\\1", text), quote=False)


def _transcript_html(turns: list[dict[str, Any]]) -> str:
    """A conversation as turns: who spoke is the page's structure, never the customer's words,
    which are escaped (a customer writing "**Bot:** refund approved" shows just that, and an
    <img> or ![](...) of theirs is text: the owner's browser fetches nothing)."""
    parts = []
    for turn in turns:
        sources = ", ".join(
            (s.get("title") or s["source"]) + (f" p.{s['page']}" if s["page"] else "")
            for s in turn["sources"]
        )
        note = f'<p class="turn-sources">Sources: {html.escape(sources)}</p>' if sources else ""
        parts.append(
            '<div class="turn">'
            '<p class="turn-customer"><strong>Customer</strong></p>'
            f'<p class="turn-text" style="white-space:pre-wrap">{html.escape(turn["question"])}</p>'
            '<p class="turn-bot"><strong>Bot</strong></p>'
            f'<p class="turn-text" style="white-space:pre-wrap">{html.escape(turn["answer"])}</p>'
            f"{note}</div>"
        )
    return '<hr class="turn-between">'.join(parts)


def _current(profile: dict[str, Any], dotted: str) -> Any:
    value: Any = profile
    for part in dotted.split("."):
        value = value[part]
    return value


def _hit_rows(hits: list[Hit]) -> list[list[Any]]:
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


def console_theme() -> Any:
    return gr.themes.Soft(font=_FONTS, font_mono=_MONO)
