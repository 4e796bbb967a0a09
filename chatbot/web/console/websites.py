"""The Websites tab: add the business's website to the chosen bot, see when each site was last
read and what changed, read one again now, or stop reading it (its pages forgotten)."""

from __future__ import annotations

import re
import time
from typing import Any

import gradio as gr

from chatbot.actions.websites import (
    queue_website_read,
    read_website,
    remove_website,
    schedule_website,
)
from chatbot.web.console.common import (
    Console,
    confirmation,
    confirmed,
    job_lines,
    md_address,
    md_text,
    refusal,
    told_to_staff,
    warning,
)
from knowledge.errors import KnowledgeError
from knowledge.ingest import ProgressSink, SiteReport

SITE_COLUMNS = ["website", "last read", "read again", "what changed"]
_SHOWN = 20  # pages of each kind listed under a read; the rest counted


class _Pages(ProgressSink):
    """A site's pages as they are read, in Gradio's progress bar (their number is not known)."""

    def __init__(self, progress: Any) -> None:
        self._progress, self._read = progress, 0

    def page_read(self, url: str, outcome: str) -> None:
        self._read += 1
        self._progress(None, desc=f"{self._read} pages: {url}")


_ADDRESS = re.compile(r"https?://\S+")


def _reason(why: str) -> str:
    """A reason as text, an address in it as an address ("redirected off the site, to …")."""
    parts, last = [], 0
    for found in _ADDRESS.finditer(why):
        parts += [md_text(why[last : found.start()]), md_address(found.group(0))]
        last = found.end()
    return "".join([*parts, md_text(why[last:])])


def report_lines(report: SiteReport) -> str:
    """What a read did, with every page not read and why; addresses shown as text."""
    lines = [f"{md_address(report.root)}: {md_text(report.summary())}"]
    for label, urls in (
        ("new", report.added),
        ("changed", report.changed),
        ("gone", report.forgotten),
    ):
        lines += [f"- {label}: {md_address(u)}" for u in urls[:_SHOWN]]
        if len(urls) > _SHOWN:
            lines.append(f"- … and {len(urls) - _SHOWN} more {label}")
    lines += [f"- not read: {md_address(u)}: {_reason(why)}" for u, why in report.skipped[:_SHOWN]]
    if len(report.skipped) > _SHOWN:
        lines.append(f"- … and {len(report.skipped) - _SHOWN} more not read")
    lines += [f"- {md_address(u)}: {md_text(note)}" for u, note in report.notes]
    return "\n".join(lines)


# Website reads the console runs at once: each mostly waits on the network, and the server's
# own pace between requests keeps each site's load low.
_READS_AT_ONCE = 4


def websites_tab(console: Console, bot: gr.Dropdown) -> None:
    services = console.services

    def rows(bot: str) -> tuple[list[list[Any]], Any]:
        sites = services.websites.of_bot(bot) if bot else []
        table = [
            [
                s.root,
                time.strftime("%Y-%m-%d %H:%M", time.localtime(s.last_read_at))
                if s.last_read_at
                else "never",
                f"every {s.every_hours:g} h" if s.every_hours else "when asked",
                (s.last_report or {}).get("summary", ""),
            ]
            for s in sites
        ]
        return table, gr.update(choices=[s.root for s in sites], value=None)

    def show(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        return rows(bot)

    def read(bot: str, address: str, request: gr.Request, progress=gr.Progress()):  # type: ignore[no-untyped-def]  # noqa: B008
        account = console.staff(request, bot)
        # Refusals are said beside the button: this event shows a progress bar, and a raised
        # refusal would leave a red "Error" badge over the websites table.
        unchanged = gr.skip(), gr.skip(), gr.skip()
        if not bot:
            return "⚠️ Choose or create a bot first.", *unchanged
        if not (address or "").strip():
            return "⚠️ Give the website's address, e.g. https://www.your-shop.my/", *unchanged
        try:
            if services.has_job_queue:  # a worker reads it; this returns at once
                job_id = queue_website_read(services, bot, address, account.username)
                said = (
                    f"**Queued as job {job_id}**: a worker reads the site; the table shows the"
                    " read when it is done."
                    if job_id
                    else "A read of this site is already waiting for a worker."
                )
                return said, *rows(bot), job_lines(services, bot)
            report = read_website(services, bot, address, account.username, _Pages(progress))
        except KnowledgeError as exc:  # not a website address, a site that refuses
            return warning(exc), *unchanged
        return report_lines(report), *rows(bot), ""

    def watch(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)  # the table and the jobs; the choice of site left as it is
        return rows(bot)[0], job_lines(services, bot)

    def ask_remove(bot: str, root: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        site = services.websites.get(bot, root) if root else None
        if site is None:
            raise refusal("Choose one of the bot's websites.")
        pages = len(services.websites.validators(site))
        return removing.ask(
            f"**Stop reading {md_address(site.root)}?** "
            + ("Its one page goes" if pages == 1 else f"Its {pages} pages go")
            + f" from what {md_text(bot)} answers from, and it is"
            " not read again. The site itself is not touched.",
            (bot, site.root),
        )

    def remove(bot: str, target: Any, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        root = confirmed(target, bot)
        if root is None:
            return removing.nothing(3)
        with told_to_staff():
            forgotten = remove_website(services, bot, root, account.username)
        said = f"No longer reading {md_address(root)}; its {forgotten} pages are forgotten."
        return removing.done(said, *rows(bot))

    def set_every(bot: str, root: str | None, hours: float | None, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        if not root:
            raise refusal("Choose one of the bot's websites.")
        with told_to_staff():
            site = schedule_website(services, bot, root, float(hours or 0), account.username)
        said = f"every {site.every_hours:g} hours" if site.every_hours else "only when asked"
        return f"{md_address(site.root)} is read again {said}.", *rows(bot)

    with gr.Tab("Websites") as tab:
        gr.Markdown(
            "Add the business's website: its pages (from its sitemap, or its links) become"
            " documents, each answer from one links to the page. The server reads each site"
            " again daily: changed pages replaced, vanished ones forgotten."
        )
        with gr.Row():
            address = gr.Textbox(
                label="Website address", placeholder="https://www.your-shop.my/", scale=4
            )
            add = gr.Button("Read this website", variant="primary", scale=1)
        outcome = gr.Markdown()
        queued = gr.Markdown(visible=services.has_job_queue)  # reads a worker does
        refresh = gr.Button("Refresh")
        sites = gr.Dataframe(wrap=True, headers=SITE_COLUMNS, label="Websites", interactive=False)
        with gr.Row():
            chosen = gr.Dropdown(label="Website", choices=[], scale=3)
            again = gr.Button("Read it again now", scale=1)
            stop = gr.Button("Stop reading it", variant="stop", scale=1)
        removing = confirmation("Yes, stop and forget its pages", bot)
        with gr.Row():
            hours = gr.Number(
                value=24,
                minimum=0,
                label="Read it again every … hours (0: only when asked)",
                scale=3,
            )
            schedule = gr.Button("Set", scale=1)

    refresh.click(show, bot, [sites, chosen])
    tab.select(show, bot, [sites, chosen])  # shown when opened, not only on Refresh
    # Reads of different sites run side by side (Gradio runs one event of a kind at a time by
    # default: one site that answered slowly held every other shop's read); one site is read
    # once at a time (read_website).
    for button, site in ((add, address), (again, chosen)):
        button.click(
            read,
            [bot, site],
            [outcome, sites, chosen, queued],
            concurrency_id="website-read",
            concurrency_limit=_READS_AT_ONCE,
        )
    if services.has_job_queue:
        gr.Timer(3.0).tick(watch, bot, [sites, queued])
    stop.click(ask_remove, [bot, chosen], removing.asked)
    removing.yes.click(remove, [bot, removing.target], [outcome, sites, chosen, *removing.asked])
    schedule.click(set_every, [bot, chosen, hours], [outcome, sites, chosen])
