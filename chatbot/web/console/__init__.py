"""The staff console at /admin: a Gradio app behind the login of admin_auth.py, one module per
tab. This module lays out the page (who is logged in, the chosen bot, the tabs in order) and
fills what belongs to a newly chosen bot; each tab's module holds its own parts and handlers.

Every handler first asks `Console.staff` whose session it serves and whether their role may act
(editors: knowledge, bot settings and the inbox; owners: also conversations, accounts,
customers' data and the audit log). What changes data goes through chatbot.actions, which
writes the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from chatbot.actions.bots import create_bot, delete_bot, name_for
from chatbot.services import Services
from chatbot.store.accounts import Role
from chatbot.web.console.accounts import accounts_tab
from chatbot.web.console.audit import audit_tab
from chatbot.web.console.bot_settings import bot_settings_tab
from chatbot.web.console.common import Console, md_text, plain, refusal, told_to_staff
from chatbot.web.console.conversations import conversations_tab
from chatbot.web.console.customers import customers_tab
from chatbot.web.console.doing import doing_tab
from chatbot.web.console.evaluation import evaluation_tab
from chatbot.web.console.gaps import gaps_tab
from chatbot.web.console.inbox import inbox_tab
from chatbot.web.console.knowledge import knowledge_tab
from chatbot.web.console.try_bot import try_bot_tab
from chatbot.web.console_uploads import ConsoleUploads
from knowledge.errors import KnowledgeError

# System fonts: Gradio's default theme makes every browser fetch Google Fonts.
_FONTS = ("ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif")
_MONO = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")


def console_theme() -> Any:
    return gr.themes.Soft(font=_FONTS, font_mono=_MONO)


def build_console(
    services: Services, public_url: Callable[[Any], str], uploads: ConsoleUploads
) -> Any:
    console = Console(services, public_url, uploads)

    def on_load(request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, None)
        choices = console.bot_choices(account)
        owner = account.role is Role.OWNER
        scope = "" if account.firm_wide else f" of {', '.join(choices) or 'no bot yet'}"
        who = f"Logged in as **{account.username}** ({account.role.value}{scope})"
        shown = dict.fromkeys(owners_only, gr.update(visible=owner))
        firm = owner and account.firm_wide
        return (
            {
                who_md: who,
                bot: gr.update(choices=choices, value=choices[0] if choices else None),
                # A shop's staff neither make bots nor manage accounts: the firm's owner does.
                making: gr.update(visible=account.firm_wide),
                accounts_tab_: gr.update(visible=firm),
            }
            | shown
            | {settings.danger: gr.update(visible=firm)}
        )

    def new_bot(title: str, request: gr.Request):  # type: ignore[no-untyped-def]
        """A bot named after the business, its title what staff typed. A refusal is a sentence
        beside the box (a raised error would mark the boxes "Error")."""
        account = console.staff(request, None, firm=True)
        title = " ".join(title.split())
        if not title:
            return gr.update(), title, "Type the business's name, e.g. *Kedai Runcit Ali*."
        name = name_for(title, services.bot_names())
        changes = {"title": title} if title != name else {}
        try:
            create_bot(services, name, changes, account.username, account.role)
        except KnowledgeError as exc:
            return gr.update(), title, f"Not created: {md_text(plain(str(exc)))}"
        said = (
            f"Created **{md_text(name)}** for {md_text(title)}. Next: add its documents"
            " or website in *Knowledge*, then *Try the bot*."
        )
        return gr.update(choices=console.bot_choices(account), value=name), "", said

    def remove_bot(bot: str, typed: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot, Role.OWNER, firm=True)
        if not bot:
            raise refusal("Choose the bot to delete first.")
        if typed.strip() != bot:
            raise refusal(f"Type the bot's name, {bot}, to confirm: nothing was deleted.")
        with told_to_staff():
            delete_bot(services, bot, account.username)
        choices = console.bot_choices(account)
        return gr.update(choices=choices, value=choices[0] if choices else None), ""

    def show_bot(bot: str, request: gr.Request) -> dict[Any, Any]:
        """Everything that belongs to the chosen bot, filled in one step: its documents and its
        settings (with whose settings the form now holds, which Save checks)."""
        account = console.staff(request, bot)
        filled: dict[Any, Any] = {**knowledge.lists(bot), **settings.fill(bot, request)}
        # knowledge.lists said whether it is shown (no documents yet); this says what.
        filled[guide] = gr.update(
            value=_guide(bot, account.firm_wide), visible=filled[guide]["visible"]
        )
        return filled

    with gr.Blocks(title="Chatbot console", analytics_enabled=False) as page:
        with gr.Row():
            who_md = gr.Markdown()
            waiting = gr.Markdown()  # how many customers wait for a person, on every tab
            gr.HTML(
                '<form method="post" action="/admin/logout" style="text-align:right">'
                '<button type="submit" class="lg secondary">Log out</button></form>'
            )
        with gr.Row():
            bot = gr.Dropdown(label="Bot", choices=[], scale=3)
            with gr.Row(visible=False, scale=3) as making:
                new_name = gr.Textbox(
                    label="New bot: the business's name",
                    placeholder="e.g. Kedai Runcit Ali",
                    scale=2,
                )
                create = gr.Button("Create bot", scale=1)
        made = gr.Markdown()
        guide = gr.Markdown(visible=False)  # the first steps, while there is nothing yet
        knowledge = knowledge_tab(console, bot, guide)
        inbox_tab(console, bot, waiting)
        try_bot_tab(console, bot)
        settings = bot_settings_tab(console, bot)
        gaps_tab(console, bot)
        doing_tab(console, bot)
        evaluation_tab(console, bot)
        accounts_tab_ = accounts_tab(console)
        owners_only = [
            settings.danger,
            conversations_tab(console, bot),
            customers_tab(console),
            audit_tab(console),
        ]

        page.load(on_load, outputs=[who_md, bot, making, accounts_tab_, guide, *owners_only])
        create.click(new_bot, new_name, [bot, new_name, made])
        new_name.submit(new_bot, new_name, [bot, new_name, made])
        settings.drop.click(remove_bot, [bot, settings.confirm], [bot, settings.confirm])
        # One event fills everything that belongs to the chosen bot. As a chain of events, a
        # choice made while the previous bot was still loading could be dropped half-way (Gradio
        # skips a step of the chain while the same step is running for the earlier choice),
        # leaving one bot's settings in the form under another's name, where Save would store them.
        bot.change(show_bot, bot, [knowledge.docs, knowledge.chosen, *settings.outputs, guide])
        # Inside the block: Gradio writes the page's configuration when the block closes.
        _refusals_leave_the_page_as_it_was(page)
    return page


def _refusals_leave_the_page_as_it_was(page: gr.Blocks) -> None:
    """A refused action (gr.Error: "The password must have at least 10 characters.") is said
    in one sentence in the corner. Gradio also covers every output of the refused event with a
    red "Error" badge, drawn by its progress spinner, which stays until that output is drawn
    again: one short password turned the accounts table and the form's fields into badges.
    Gradio has no page-wide default, so every event is set here to run without the spinner,
    but those that show a progress bar (an upload, a website read, a re-index, an evaluation:
    they say their refusals as sentences, not as errors)."""
    for event in page.fns.values():
        if not event.tracks_progress:
            event.show_progress = "hidden"


def _guide(bot: str | None, firm_wide: bool) -> str:
    """The first steps, on an empty deployment or for a bot with no documents yet."""
    steps = [
        "**Add what it should know**: *Knowledge* › *Documents* (price lists, FAQs, menus,"
        " policies: PDF, Word, spreadsheets, scans) or *Knowledge* › *Websites* (your site).",
        "**Try it**: *Try the bot*, asking as your customers would.",
        "**Put it on your website**: *Bot settings* › the embed code, or connect WhatsApp in"
        " *Inbox* › *WhatsApp*.",
        "**Watch how it does**: *Gaps* (questions it could not answer: answer them once) and"
        " *How it is doing*.",
    ]
    if not bot:
        first = (
            "**Make a bot**: type the business's name above and press *Create bot*."
            if firm_wide
            else "**Ask your firm's owner** to give your account a bot."
        )
        steps.insert(0, first)
        head = "### Welcome! Four steps to a bot that answers your customers"
    else:
        head = f"### Next for {md_text(bot)}: it knows nothing yet"
    return "\n".join([head, *(f"{n}. {step}" for n, step in enumerate(steps, 1))])
