"""The Inbox tab (every staff member: they are who answers customers): the conversations
waiting for a person first, with how long each has waited, then those a person has, then those
live with the bot; one opened to read whole (audited), reply, take over, hand back or close,
a pinned answer reused as a quick reply. It reads itself again every few seconds, and while it
is open the bot tells customers asking for a person that someone will answer now."""

from __future__ import annotations

import html
import time
from typing import Any

import gradio as gr

from chatbot.actions.inbox import (
    Entry,
    close,
    hand_back,
    inbox,
    read_conversation,
    reply,
    take_over,
)
from chatbot.store.inbox import Standing, State
from chatbot.store.personal_data import ConversationRef
from chatbot.web.console.common import Console, told_to_staff, when

REFRESH_S = 5.0
_STATE_LABELS = {
    State.WAITING: "waiting for a person",
    State.STAFF: "with a person",
    State.BOT: "with the bot",
}
_WHO = {"customer": "Customer", "bot": "Bot", "staff": "Staff"}
_EVENTS = {
    "joined": "joined the conversation",
    "handed_back": "The bot answers again.",
    "closed": "Closed.",
}


def _ago(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under a minute"
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def _label(standing: Standing, now: float) -> str:
    """How a conversation is listed: its state, and its reference's start to tell it apart."""
    state = _STATE_LABELS.get(standing.state, standing.state.value)
    reference = standing.conversation_id[:8]
    if standing.state is State.WAITING:
        why = "asked for a person" if standing.reason == "asked" else "the bot could not help"
        return f"{state} {_ago(now - standing.since)} ({why}) · {reference}"
    if standing.state is State.STAFF:
        return f"{state}: {standing.staff} · {reference}"
    return f"{state}, last active {when(standing.updated_at)} · {reference}"


def conversation_html(entries: list[Entry]) -> str:
    """Who said what, every word of theirs escaped (see conversations.transcript_html)."""
    parts = []
    for entry in entries:
        at = when(entry.at)[11:] if entry.at else ""
        if entry.who == "event":
            what = _EVENTS.get(entry.text, entry.text)
            who = f"{entry.name} " if entry.text == "joined" and entry.name else ""
            if entry.text == "joined" and not who:
                who = "A staff member "
            parts.append(
                f'<p class="inbox-event"><em>{html.escape(at)} {html.escape(who + what)}</em></p>'
            )
            continue
        name = _WHO.get(entry.who, entry.who)
        if entry.who == "staff" and entry.name:
            name = f"{name} ({entry.name})"
        parts.append(
            f'<div class="inbox-{html.escape(entry.who)}"><p><strong>{html.escape(name)}</strong>'
            f" <small>{html.escape(at)}</small></p>"
            f'<p style="white-space:pre-wrap">{html.escape(entry.text)}</p></div>'
        )
    return "".join(parts) or "<p>Nothing said yet.</p>"


def inbox_tab(console: Console, bot: gr.Dropdown) -> Any:
    services = console.services

    def listed(bot: str, _open: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        # `_open` unused: the list's events carry the open conversation too, so that none of
        # them looks like the one that loads the bot's settings (what tests hold back by it).
        console.staff(request)
        if not bot:
            return "", gr.update(choices=[])
        services.desk.presence.seen(bot)  # someone is here to answer
        now = time.time()
        queue = inbox(services, bot)
        waiting = sum(s.state is State.WAITING for s in queue)
        summary = (
            f"### 🔔 {waiting} waiting for a person"
            if waiting
            else "No one is waiting for a person."
        )
        choices = [(_label(s, now), s.conversation_id) for s in queue]
        return summary, gr.update(choices=choices)

    def shown(
        bot: str, conversation: str | None, audit: bool, request: gr.Request
    ) -> tuple[str, str]:
        account = console.staff(request)
        if not bot or not conversation:
            return "", ""
        ref = ConversationRef(bot, conversation)
        with told_to_staff():
            standing, entries = read_conversation(services, account.username, ref, audit=audit)
        state = standing.state if standing else State.BOT
        where = _STATE_LABELS.get(state, state.value)
        if standing is not None and state is State.STAFF:
            where += f": {standing.staff}"
        return f"**{where.capitalize()}**", conversation_html(entries)

    def opened(bot: str, conversation: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        return shown(bot, conversation, True, request)

    def again(bot: str, conversation: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        return shown(bot, conversation, False, request)

    def act(what: str):  # type: ignore[no-untyped-def]
        def run(bot: str, conversation: str | None, text: str, request: gr.Request):  # type: ignore[no-untyped-def]
            account = console.staff(request)
            if not conversation:
                raise gr.Error("Choose a conversation first.")
            ref = ConversationRef(bot, conversation)
            with told_to_staff():
                if what == "reply":
                    reply(services, account.username, ref, text or "")
                elif what == "take":
                    take_over(services, account.username, ref)
                elif what == "hand_back":
                    hand_back(services, account.username, ref)
                else:
                    close(services, account.username, ref)
            state, body = shown(bot, conversation, False, request)
            return state, body, "" if what == "reply" else text

        return run

    def quick(bot: str, _open: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request)
        pins = services.pins.all(bot) if bot else []
        return gr.update(choices=[(p.question, p.answer) for p in pins], value=None)

    with gr.Tab("Inbox") as tab:
        summary = gr.Markdown()
        conversation = gr.Dropdown(label="Conversation", choices=[], interactive=True)
        state = gr.Markdown()
        body = gr.HTML()  # built by conversation_html: every word escaped
        quick_reply = gr.Dropdown(
            label="Quick reply (a pinned answer)", choices=[], interactive=True
        )
        text = gr.Textbox(label="Your reply", lines=3, placeholder="Write to the customer…")
        with gr.Row():
            send = gr.Button("Send", variant="primary")
            take = gr.Button("Take over")
            back = gr.Button("Hand back to the bot")
            done = gr.Button("Close")
    # While the console is open, it keeps the list and the open conversation current.
    timer = gr.Timer(REFRESH_S)

    parts = [bot, conversation, text]
    chosen = [bot, conversation]
    timer.tick(listed, chosen, [summary, conversation]).then(again, chosen, [state, body])
    tab.select(listed, chosen, [summary, conversation]).then(quick, chosen, quick_reply)
    conversation.input(opened, [bot, conversation], [state, body])
    quick_reply.input(lambda answer: answer or "", quick_reply, text)
    send.click(act("reply"), parts, [state, body, text])
    text.submit(act("reply"), parts, [state, body, text])
    take.click(act("take"), parts, [state, body, text])
    back.click(act("hand_back"), parts, [state, body, text])
    done.click(act("close"), parts, [state, body, text])
    return tab
