"""The Inbox tab's WhatsApp section: the bot's number on Meta's Cloud API, set by an owner (the
secrets typed once, shown back only by their last characters), whether Meta accepts its token,
and how the latest replies fared (sent, delivered, read, failed). docs/WHATSAPP.md says where
each value is found in the Meta app."""

from __future__ import annotations

import time

import gradio as gr

from chatbot.actions.whatsapp import check, connect, disconnect, view
from chatbot.web.console.common import Console, md_text, when
from chatbot.whatsapp.desk import WINDOW_S
from knowledge.errors import KnowledgeError

SENT_COLUMNS = ["#", "when", "kind", "state", "tries", "Meta said"]


def window_note(console: Console, bot: str, conversation: str) -> str:
    """For a WhatsApp conversation, where a reply goes and whether WhatsApp still lets it."""
    customer = console.services.whatsapp.store.customer_of(bot, conversation)
    if customer is None:
        return ""
    hours = (time.time() - customer.last_inbound_at) / 3600
    if hours * 3600 < WINDOW_S:
        return (
            f" · on WhatsApp (they last wrote {hours:.0f} h ago: replies go to their WhatsApp"
            f" for another {24 - hours:.0f} h)"
        )
    return (
        f" · on WhatsApp (they last wrote {hours:.0f} h ago: past 24 hours only the bot's"
        " approved template reaches them)"
    )


def whatsapp_section(console: Console, bot: gr.Dropdown) -> None:
    """An accordion, in the tab being built."""
    services = console.services

    def current(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request)
        shown = view(services, bot) if bot else None
        if shown is None:
            said = "This bot has no WhatsApp number yet."
        else:
            state = (
                f"⚠️ **Meta refuses it:** {md_text(shown.problem)}"
                if shown.problem
                else "Meta accepted the last message sent."
            )
            template = (
                f"`{shown.template}` ({shown.template_language})" if shown.template else "none"
            )
            said = (
                f"Number id `{shown.phone_number_id}` · access token {shown.access_token} · app"
                f" secret {shown.app_secret} · verify token {shown.verify_token} · template"
                f" {template}\n\nCallback URL: your server's address followed by"
                f" `{shown.webhook_path}`\n\n{state}"
            )
        rows = [
            [m.id, when(m.at), m.kind, m.state, m.attempts, m.outcome]
            for m in (services.whatsapp.store.outgoing(bot, 20) if bot else [])
        ]
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
        account = console.staff(request)
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
        except KnowledgeError as exc:  # said beside the form; nothing changed
            return f"⚠️ {md_text(str(exc).capitalize())}.", *current(bot, request), gr.update()
        said = (
            f"Saved. In the Meta app, set the callback URL to your server's address followed by"
            f" `/webhooks/whatsapp/{bot}` and the verify token to `{verify_token}`."
        )
        # The secrets are not left in the form.
        return said, *current(bot, request), ""

    def checked(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request)
        try:
            problem = check(services, bot)
        except KnowledgeError as exc:
            return f"⚠️ {md_text(str(exc).capitalize())}.", *current(bot, request)
        said = f"⚠️ {md_text(problem)}" if problem else "Meta accepts the access token."
        return said, *current(bot, request)

    def removed(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request)
        try:
            disconnect(services, account.username, account.role, bot)
        except KnowledgeError as exc:
            return f"⚠️ {md_text(str(exc).capitalize())}.", *current(bot, request)
        return "The bot has no WhatsApp number now.", *current(bot, request)

    with gr.Accordion("WhatsApp: the bot on your business number", open=False) as section:
        state = gr.Markdown()
        gr.Markdown(
            "From your app in Meta for Developers (WhatsApp › API Setup): the phone number id,"
            " a permanent access token of a system user, and the app secret (App settings ›"
            " Basic). Setting them is an owner's; they are kept encrypted and never shown again."
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
        said = gr.Markdown()
        sent = gr.Dataframe(headers=SENT_COLUMNS, label="Latest replies sent", interactive=False)
    section.expand(current, bot, [state, sent])
    form = [bot, number_id, token, secret, verify, template, language]
    cleared = save.click(saved, form, [said, state, sent, token])
    cleared.then(lambda: ("", ""), None, [secret, verify])
    test.click(checked, bot, [said, state, sent])
    drop.click(removed, bot, [said, state, sent])
