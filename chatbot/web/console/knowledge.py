"""The Knowledge tab: upload documents, see each one's status, preview, retitle or delete one,
re-index the bot, try a search; and, beside them, the bot's websites (websites.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from chatbot.actions.knowledge import (
    forget_document,
    ingest_files,
    queue_upload,
    refuse_upload,
    reindex,
    retitle_document,
)
from chatbot.web.admin_auth import COOKIE
from chatbot.web.console.common import (
    HIT_COLUMNS,
    Console,
    GradioProgress,
    confirmation,
    confirmed,
    hit_rows,
    job_lines,
    md_text,
    refusal,
    told_to_staff,
    warning,
    when,
)
from chatbot.web.console.websites import websites_tab
from chatbot.web.console_uploads import NOT_UPLOADED
from knowledge.errors import KnowledgeError
from knowledge.ingest import IngestReport

DOC_COLUMNS = ["document", "title customers see", "status", "pages", "chunks", "when", "note"]


@dataclass(frozen=True)
class KnowledgeTab:
    docs: gr.Dataframe
    chosen: gr.Dropdown
    lists: Any  # bot -> {docs: rows, chosen: choices}: what a newly chosen bot fills in


def knowledge_tab(console: Console, bot: gr.Dropdown, guide: gr.Markdown) -> KnowledgeTab:
    """The tab; `guide` (the first steps, above the tabs) goes once the bot has documents."""
    services = console.services

    def documents(bot: str, records: list[Any] | None = None) -> list[list[Any]]:
        if not bot:
            return []
        if records is None:
            records = services.knowledge(bot).documents()
        indexed = {d.source: d for d in records}
        rows: list[list[Any]] = []
        for upload in services.uploads.latest(bot):
            record = indexed.pop(upload.source, None)
            if upload.status == "rejected":
                rows.append([upload.source, "", "rejected", "", "", when(upload.at), upload.reason])
            elif record is not None:
                note = upload.reason  # personal data found in it, if any
                rows.append(
                    [
                        record.source,
                        record.title,
                        "ingested",
                        record.pages,
                        record.chunks,
                        when(upload.at),
                        note,
                    ]
                )
        for record in indexed.values():  # ingested before uploads were recorded
            rows.append(
                [record.source, record.title, "ingested", record.pages, record.chunks, "", ""]
            )
        return rows

    def lists(bot: str) -> dict[Any, Any]:
        """The documents table and the choice of documents to preview or delete, refreshed."""
        records = services.knowledge(bot).documents() if bot else []
        sources = [d.source for d in records]
        return {
            docs: documents(bot, records),
            chosen: gr.update(choices=sources, value=None),
            guide: gr.update(visible=not records),
        }

    def upload(  # type: ignore[no-untyped-def]
        bot: str,
        files: list[Any] | None,
        mask_personal_data: bool,
        request: gr.Request,
        progress=gr.Progress(),  # noqa: B008 - Gradio's way of asking for a progress bar
    ):
        account = console.staff(request, bot)
        given = [str(f if isinstance(f, str) else f.name) for f in files or []]
        # Said beside the button: this event shows a progress bar, and a raised refusal would
        # leave a red "Error" badge over the documents table.
        if not bot or not given:
            return {
                outcome: "⚠️ Choose or create a bot first."
                if not bot
                else "⚠️ Choose one or more files to upload."
            }
        # Only what this staff session uploaded itself: Gradio's API takes any path.
        paths, refused = console.uploads.claim(request.cookies.get(COOKIE), given)
        if refused:
            refuse_upload(services, bot, refused, account.username)
        if services.has_job_queue and paths:  # a worker ingests them; this returns at once
            try:
                job_id = queue_upload(services, bot, paths, account.username, mask_personal_data)
            finally:
                console.uploads.discard(paths)
            said = f"**Queued as upload job {job_id}**: {len(paths)} file(s); a worker reads"
            said += " them. Their progress is under *Uploads in progress*."
            said += "".join(f"\n- rejected: {md_text(n)}: {NOT_UPLOADED}" for n in refused)
            return {outcome: said, **lists(bot), files_in: None, queued: job_lines(services, bot)}
        try:
            report = (
                ingest_files(
                    services,
                    bot,
                    paths,
                    account.username,
                    GradioProgress(progress),
                    mask_personal_data=mask_personal_data,
                )
                if paths
                else IngestReport()
            )
        except KnowledgeError as exc:  # a vector store that is down: its one-line reason
            return {outcome: warning(exc), files_in: None}
        finally:
            console.uploads.discard(paths)  # the knowledge base keeps what it needs; copies go
        rejected = [(p.name, why) for p, why in report.rejected]
        rejected += [(name, NOT_UPLOADED) for name in refused]
        lines = [
            f"**{len(report.ingested)} ingested** ({sum(n for _, n in report.ingested)} passages),"
            f" {len(report.unchanged)} unchanged, **{len(rejected)} rejected**"
        ]
        # File names are the uploader's words: shown as text, never as Markdown.
        lines += [f"- rejected: {md_text(name)}: {md_text(why)}" for name, why in rejected]
        lines += [f"- {md_text(p.name)}: {md_text(note)}" for p, note in report.notes]
        if any(note.endswith("not masked") for _, note in report.notes):
            lines.append("\nTo mask it, tick *Mask personal data* and add the file again.")
        return {
            outcome: "\n".join(lines),
            **lists(bot),
            files_in: None,
            queued: job_lines(services, bot),
        }

    def watch_jobs(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)  # the documents as workers add them, and the jobs' progress
        return documents(bot) if bot else [], job_lines(services, bot)

    def ask_delete(bot: str, source: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        if not source:
            raise refusal("Choose a document to delete.")
        record = next((d for d in services.knowledge(bot).documents() if d.source == source), None)
        if record is None:
            raise refusal(f"{source} is no longer among the bot's documents.")
        passages = (
            "Its one passage goes" if record.chunks == 1 else f"Its {record.chunks} passages go"
        )
        return deleting.ask(
            f"**Delete {md_text(source)}?** {passages} from what {md_text(bot)} answers"
            " from, and no answer cites it any more. Conversations already held stay.",
            (bot, source),
        )

    def delete_document(bot: str, target: Any, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        gone = dict(zip(deleting.asked, deleting.hide(), strict=True))
        source = confirmed(target, bot)
        if source is None:
            return gone
        forget_document(services, bot, source, account.username)
        return {outcome: f"Deleted {md_text(source)}.", **lists(bot), **gone}

    def retitle(bot: str, source: str | None, title: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        if not source:
            raise refusal("Choose a document to rename.")
        with told_to_staff():
            retitle_document(services, bot, source, title or "", account.username)
        said = f"Customers now see {md_text(source)} as “{md_text(title.strip())}”."
        return {outcome: said, docs: documents(bot)}

    def preview(bot: str, source: str | None, request: gr.Request) -> list[list[Any]]:
        console.staff(request, bot)
        if not source:
            raise refusal("Choose a document to preview.")
        return [
            [c.ordinal + 1, c.page or "", c.section, c.text]
            for c in services.knowledge(bot).chunks_of(source)
        ]

    def try_search(bot: str, query: str, request: gr.Request) -> list[list[Any]]:
        console.staff(request, bot)
        return hit_rows(services.knowledge(bot).search(query, k=services.settings.retrieval.k))

    def rebuild_index(bot: str, request: gr.Request, progress=gr.Progress()):  # type: ignore[no-untyped-def]  # noqa: B008
        account = console.staff(request, bot)
        done = reindex(
            services,
            bot,
            account.username,
            lambda n, total: progress(n / max(total, 1), desc=f"{n}/{total} passages"),
        )
        return f"Re-indexed {done} passages."

    # Documents and websites side by side: two sub-tabs (one more top tab overflows the bar).
    with gr.Tab("Knowledge"), gr.Tabs():
        with gr.Tab("Documents"):
            files_in = gr.File(label="Upload documents", file_count="multiple", type="filepath")
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
            # With a job queue (PostgreSQL), uploads are ingested by workers: their progress,
            # read again every two seconds.
            queued = gr.Markdown(label="Uploads in progress", visible=services.has_job_queue)
            docs = gr.Dataframe(
                wrap=True,
                headers=DOC_COLUMNS,
                label="Documents",
                interactive=False,
                # Shares of the width, not pixels: it fits a tablet as well as a laptop.
                column_widths=["20%", "18%", "20%", "7%", "8%", "12%", "15%"],
            )
            with gr.Row():
                chosen = gr.Dropdown(label="Document", choices=[], scale=3)
                show = gr.Button("Preview passages", scale=1)
                remove = gr.Button("Delete document", variant="stop", scale=1)
            deleting = confirmation("Yes, delete it", bot)
            with gr.Row():
                new_title = gr.Textbox(
                    label="Title customers see for this document",
                    info="Shown under answers from it, instead of its file name.",
                    scale=4,
                )
                rename = gr.Button("Set title", scale=1)
            passages = gr.Dataframe(
                wrap=True,
                headers=["#", "page", "section", "text"],
                label="Passages",
                interactive=False,
            )
            with gr.Row():
                query = gr.Textbox(label="Try a search", scale=4)
                search = gr.Button("Search", scale=1)
            hits = gr.Dataframe(
                wrap=True,
                headers=HIT_COLUMNS,
                column_widths=["7%", "8%", "10%", "17%", "7%", "16%", "35%"],
                label="What would be retrieved",
                interactive=False,
            )
        websites_tab(console, bot)

    add.click(upload, [bot, files_in, mask_data], [outcome, docs, chosen, guide, files_in, queued])
    if services.has_job_queue:
        gr.Timer(2.0).tick(watch_jobs, bot, [docs, queued])
    rebuild.click(rebuild_index, bot, outcome)
    remove.click(ask_delete, [bot, chosen], deleting.asked)
    deleting.yes.click(
        delete_document, [bot, deleting.target], [outcome, docs, chosen, guide, *deleting.asked]
    )
    rename.click(retitle, [bot, chosen, new_title], [outcome, docs])
    show.click(preview, [bot, chosen], passages)
    search.click(try_search, [bot, query], hits)
    query.submit(try_search, [bot, query], hits)
    return KnowledgeTab(docs, chosen, lists)
