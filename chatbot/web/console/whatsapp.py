"""The Inbox tab's WhatsApp section: the bot's number on Meta's Cloud API, set by an owner (the
secrets typed once, shown back only by their last characters), whether Meta accepts its token,
and how the latest replies fared (sent, delivered, read, failed). docs/WHATSAPP.md says where
each value is found in the Meta app."""

from __future__ import annotations

import time
from typing import Any

import gradio as gr

from chatbot.actions.whatsapp import callback_url, check, connect, disconnect, view
from chatbot.store.accounts import Role
from chatbot.web.console.common import (
    Console,
    confirmation,
    confirmed,
    md_text,
    refusal,
    warning,
    when,
)
from chatbot.whatsapp.desk import WINDOW_S
from knowledge.errors import KnowledgeError

SENT_COLUMNS = ["#", "when", "kind", "state", "tries", "Meta said"]


def window_note(console: Console, bot: str, conversation: str) -> str:
    """For a WhatsApp conversation, the customer's number (staff call back on it; opening the
    conversation is audited), and whether WhatsApp still lets a reply through."""
    customer = console.services.whatsapp.store.customer_of(bot, conversation)
    if customer is None:
        return ""
    ago = time.time() - customer.last_inbound_at
    said = f" · on WhatsApp, +{customer.number}: they last wrote {_span(ago)} ago"
    if ago < WINDOW_S:
        return f"{said}; replies reach their WhatsApp for another {_span(WINDOW_S - ago)}"
    return f"{said}; past 24 hours only the bot's approved template reaches them"


def _span(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} min" if minutes < 90 else f"{round(minutes / 60)} h"


def sentence(text: str) -> str:
    """`text` begun with a capital, the rest as written ("Meta", "API Setup" kept)."""
    return text[:1].upper() + text[1:]


def whatsapp_section(console: Console, bot: gr.Dropdown) -> None:
    """An accordion, in the tab being built."""
    services = console.services

    def current(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        shown = view(services, bot) if bot else None
        sent = services.whatsapp.store.outgoing(bot, 20) if bot else []
        if shown is None:
            said = "This bot has no WhatsApp number yet."
        else:
            if shown.problem:
                state = f"⚠️ **{md_text(sentence(shown.problem))}**"
            elif sent:
                state = "Meta took the last reply sent."
            else:
                state = "No reply sent yet: *Check with Meta* tests the token."
            template = (
                f"`{shown.template}` ({shown.template_language})" if shown.template else "none"
            )
            said = (
                f"Number id `{shown.phone_number_id}` · access token {shown.access_token} · app"
                f" secret {shown.app_secret} · verify token {shown.verify_token} · template"
                f" {template}\n\nCallback URL for Meta: `{md_text(shown.callback_url)}`"
                f"\n\n{state}"
            )
        rows = [[m.id, when(m.at), m.kind, m.state, m.attempts, m.outcome] for m in sent]
        return said, rows

    def saved(  # type: ignore[no-untyped-def]
        bot: str,
        number_id: str,
        token: str,
        secret: str,
        verify: str,
        template: str,
        language: str,
        request: gr.Request,
    ):
        account = console.staff(request, bot)
        try:
            verify_token = connect(
                services,
                account.username,
                account.role,
                bot,
                phone_number_id=number_id or "",
                access_token=token or "",
                app_secret=secret or "",
                verify_token=verify or "",
                template=template or "",
                template_language=language or "en",
            )
            checked = check(services, bot)
        except KnowledgeError as exc:  # said beside the form; nothing changed
            return warning(exc), *current(bot, request), gr.update()
        told = md_text(checked.said) if checked.ok else warning(checked.said)
        said = (
            f"Saved. {told}\n\nIn the Meta app (WhatsApp › Configuration), set the callback URL"
            f" to `{md_text(callback_url(services, bot))}` and the verify token to"
            f" `{md_text(verify_token)}`."
        )
        # The secrets are not left in the form.
        return said, *current(bot, request), ""

    def checked(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        try:
            result = check(services, bot)
        except KnowledgeError as exc:
            return warning(exc), *current(bot, request)
        said = md_text(result.said) if result.ok else warning(result.said)
        return said, *current(bot, request)

    def ask_remove(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot, Role.OWNER)  # an owner's, as setting it is
        shown = view(services, bot) if bot else None
        if shown is None:
            raise refusal("This bot has no WhatsApp number to remove.")
        return removing.ask(
            f"**Remove the WhatsApp number (id {md_text(shown.phone_number_id)}) from"
            f" {md_text(bot)}?** Customers who write to it get no answer from the bot until it"
            " is set again, and its access token and app secret are forgotten. Conversations"
            " held so far stay.",
            (bot, shown.phone_number_id),
        )

    def removed(bot: str, target: Any, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        if confirmed(target, bot) is None:
            return removing.nothing(3)
        try:
            disconnect(services, account.username, account.role, bot)
        except KnowledgeError as exc:
            return removing.done(warning(exc), *current(bot, request))
        return removing.done("The bot has no WhatsApp number now.", *current(bot, request))

    with gr.Accordion("WhatsApp: the bot on your business number", open=False) as section:
        state = gr.Markdown()
        gr.Markdown(
            "From your app in Meta for Developers (WhatsApp › API Setup): the phone number id,"
            " a permanent access token of a system user, and the app secret (App settings ›"
            " Basic). Setting them is an owner's; they are kept encrypted and never shown again."
            " A field left empty keeps what was set before."
        )
        with gr.Row():
            number_id = gr.Textbox(label="Phone number id")
            token = gr.Textbox(label="Access token", type="password")
            secret = gr.Textbox(label="App secret", type="password")
        with gr.Row():
            verify = gr.Textbox(label="Verify token (empty: one is made)", type="password")
            template = gr.Textbox(label="Template for replies past 24 hours (optional)")
            language = gr.Textbox(label="Template language", value="en")
        with gr.Row():
            save = gr.Button("Save WhatsApp number", variant="primary")
            test = gr.Button("Check with Meta")
            drop = gr.Button("Remove WhatsApp number")
        removing = confirmation("Yes, remove the number", bot)
        said = gr.Markdown()
        sent = gr.Dataframe(
            wrap=True,
            headers=SENT_COLUMNS,
            column_widths=["8%", "20%", "14%", "14%", "10%", "34%"],
            label="Latest replies sent",
            interactive=False,
        )
    section.expand(current, bot, [state, sent])
    form = [bot, number_id, token, secret, verify, template, language]
    cleared = save.click(saved, form, [said, state, sent, token])
    cleared.then(lambda: ("", ""), None, [secret, verify])
    test.click(checked, bot, [said, state, sent])
    drop.click(ask_remove, bot, removing.asked)
    removing.yes.click(removed, [bot, removing.target], [said, state, sent, *removing.asked])
