"""The Conversations tab (owners): recent answers with what answered them, filtered; one
conversation's transcript, opened and audited; one of its questions kept as a test question
(Which model?) with the answer staff say is right."""

from __future__ import annotations

import html
import time
from typing import Any

import gradio as gr

from chatbot.actions.evaluation import keep_turn_as_question
from chatbot.actions.privacy import open_transcript
from chatbot.store.accounts import Role
from chatbot.store.personal_data import ConversationRef
from chatbot.web.console.common import (
    FALLBACK_LABELS,
    KIND_LABELS,
    Console,
    md_text,
    refusal,
    short_ref,
    told_to_staff,
    when,
)

ANSWER_COLUMNS = ["when", "conversation", "question", "answered by", "why not", "rating", "sources"]
_RATING = {1: "👍", -1: "👎", None: ""}


def transcript_html(turns: list[dict[str, Any]]) -> str:
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


def conversations_tab(console: Console, bot: gr.Dropdown) -> Any:
    services = console.services

    def recent(bot: str, which: str, days: float | None, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot, Role.OWNER)
        answered = {"answered": True, "not answered": False}.get(which)
        since = time.time() - float(days or 3650) * 86400
        rows = services.conversations.recent(
            bot, answered=answered, rated_down=which == "rated down", since=since
        )
        shown = [
            [
                when(r["created_at"]),
                short_ref(r["conversation_id"]),
                r["question"],
                KIND_LABELS.get(r["kind"], r["kind"]),
                FALLBACK_LABELS.get(r["fallback"] or "", r["fallback"] or ""),
                _RATING.get(r["rating"], ""),
                ", ".join(sorted({s.get("title") or s["source"] for s in r["sources"]})),
            ]
            for r in rows
        ]
        return shown, [r["conversation_id"] for r in rows]  # the rows' whole references

    def transcript(bot: str, conversation_id: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot, Role.OWNER)
        ref = ConversationRef(bot, conversation_id.strip())
        turns = open_transcript(services, account.username, ref)
        if not turns:
            raise refusal(f"No conversation {conversation_id!r} with bot {bot!r}.")
        choices = [(f"{n + 1}. {t['question'][:80]}", n) for n, t in enumerate(turns)]
        last = len(turns) - 1
        return (
            transcript_html(turns),
            gr.update(choices=choices, value=last),
            turns[last]["answer"] if turns[last]["answered"] else "",
            turns,
        )

    def turn_chosen(turns: list[dict[str, Any]] | None, turn: int | None) -> str:
        """The bot's answer to that turn, for staff to confirm or correct."""
        if not turns or turn is None or not 0 <= int(turn) < len(turns):
            return ""
        chosen = turns[int(turn)]
        return str(chosen["answer"]) if chosen["answered"] else ""

    def keep(  # type: ignore[no-untyped-def]
        bot: str,
        conversation_id: str,
        turn: int | None,
        right: str,
        decline: bool,
        request: gr.Request,
    ):
        account = console.staff(request, bot, Role.OWNER)
        if turn is None:
            raise refusal("Open a transcript and choose one of its questions.")
        ref = ConversationRef(bot, conversation_id.strip())
        with told_to_staff():
            made = keep_turn_as_question(
                services, ref, int(turn), right, account.username, answerable=not decline
            )
        if not made.answerable:
            return f"Kept “{md_text(made.question)}” as a question the bot should decline."
        return (
            f"Kept “{md_text(made.question)}” as a test question: a right answer holds"
            f" “{md_text(made.expect[0])}”. See it under Which model?"
        )

    with gr.Tab("Conversations", visible=False) as tab:
        with gr.Row():
            which = gr.Radio(
                ["all", "answered", "not answered", "rated down"], value="all", label="Show"
            )
            days = gr.Number(value=30, precision=0, label="Last … days")
            refresh = gr.Button("Refresh")
        answers = gr.Dataframe(
            wrap=True,
            headers=ANSWER_COLUMNS,
            label="Recent answers (click one to open its conversation)",
            interactive=False,
            # Shares of the width, not pixels: the table fits a tablet as well as a laptop.
            column_widths=["13%", "12%", "27%", "12%", "12%", "8%", "16%"],
        )
        with gr.Row():
            conversation = gr.Textbox(label="Conversation id", scale=4)
            open_it = gr.Button("Open transcript", scale=1)
        shown = gr.HTML()  # built by transcript_html: every word escaped
        listed_ids = gr.State([])
        opened = gr.State(None)
        with gr.Accordion("Keep a question of it as a test question", open=False):
            turn = gr.Dropdown(label="Its question", choices=[], type="value")
            right = gr.Textbox(
                label="The right answer (the bot's, or yours if it was wrong)", lines=2
            )
            decline = gr.Checkbox(label="The bot should not answer this (out of scope)")
            keep_it = gr.Button("Keep as a test question")
            kept = gr.Markdown()

    listing = [answers, listed_ids]
    refresh.click(recent, [bot, which, days], listing)
    tab.select(recent, [bot, which, days], listing)  # shown when opened, not only on Refresh
    which.change(recent, [bot, which, days], listing)
    open_it.click(transcript, [bot, conversation], [shown, turn, right, opened])

    def picked(ids: list[str], evt: gr.SelectData) -> str:
        """A row of the list clicked: its conversation, opened at once (no id to paste)."""
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        return ids[int(row)] if ids and 0 <= int(row) < len(ids) else ""

    answers.select(picked, listed_ids, conversation).then(
        transcript, [bot, conversation], [shown, turn, right, opened]
    )
    turn.input(turn_chosen, [opened, turn], right)
    keep_it.click(keep, [bot, conversation, turn, right, decline], kept)
    return tab
