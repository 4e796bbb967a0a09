"""The Gaps tab: the questions the bot could not answer, grouped when they ask the same thing;
staff write the right answer once and pin it."""

from __future__ import annotations

from typing import Any

import gradio as gr

from chatbot.actions.evaluation import keep_answer_as_question
from chatbot.actions.pins import pin_answer, unpin_answer
from chatbot.answering.pinned import PINNED_SOURCE
from chatbot.store.gaps import group_gaps
from chatbot.web.console.common import Console, short_ref, told_to_staff, when

GAP_COLUMNS = ["question", "asked", "last asked", "conversations", "also asked as"]
PIN_COLUMNS = ["#", "question", "answer", "by", "when"]


def gaps_tab(console: Console, bot: gr.Dropdown) -> None:
    services = console.services

    def gap_rows(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        gaps = group_gaps(services.conversations.gaps(bot), services.embedder.embed_documents)
        rows = [
            [
                g.question,
                g.asked,
                when(g.last_asked),
                # The references' beginnings, as the Conversations tab lists them: enough to
                # find one there and click it; the whole 32 characters would not fit a tablet.
                " ".join(short_ref(c) for c in g.conversations[:3]),
                " / ".join(g.wordings[1:4]),
            ]
            for g in gaps
        ]
        return rows, gr.update(choices=[g.question for g in gaps], value=None)

    def pinned_rows(bot: str, request: gr.Request) -> list[list[Any]]:
        console.staff(request, bot)
        return pin_rows(bot)

    def pin_rows(bot: str) -> list[list[Any]]:
        return (
            [
                [p.id, p.question, p.answer, p.actor, when(p.created_at)]
                for p in services.pins.all(bot)
            ]
            if bot
            else []
        )

    def pin(bot: str, question: str, answer: str, keep: bool, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        with told_to_staff():
            pin_answer(services, bot, question or "", answer or "", account.username)
        said = f"Pinned. Customers asking “{question.strip()}” now get this answer."
        if keep and keep_answer_as_question(
            services, bot, question, answer, PINNED_SOURCE, account.username
        ):
            said += " Kept as a test question (Which model?)."
        return said, pin_rows(bot), ""

    def unpin(bot: str, pin_id: float | None, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        with told_to_staff():
            unpin_answer(services, bot, int(pin_id or 0), account.username)
        return f"Removed pinned answer {int(pin_id or 0)}.", pin_rows(bot)

    with gr.Tab("Gaps") as tab:
        gr.Markdown(
            "Questions the bot could not answer, grouped when they"
            " ask the same thing. Write the right answer once: customers asking it again get"
            " it as written."
        )
        show_gaps = gr.Button("Refresh")
        gap_table = gr.Dataframe(
            wrap=True,
            headers=GAP_COLUMNS,
            label="Open questions",
            interactive=False,
            # Shares of the width, not pixels: the table fits a tablet as well as a laptop.
            column_widths=["30%", "8%", "14%", "20%", "28%"],
        )
        gap_question = gr.Dropdown(label="Question to answer", choices=[], allow_custom_value=True)
        gap_answer = gr.Textbox(label="The right answer", lines=3)
        with gr.Row():
            keep_as_test = gr.Checkbox(
                label="Also keep it as a test question (Which model?)", value=True, scale=2
            )
            pin_it = gr.Button("Pin this answer", variant="primary", scale=2)
        pinned_note = gr.Markdown()
        pinned = gr.Dataframe(
            wrap=True,
            headers=PIN_COLUMNS,
            label="Pinned answers",
            interactive=False,
            column_widths=["6%", "30%", "40%", "10%", "14%"],
        )
        with gr.Row():
            unpin_id = gr.Number(label="Pinned answer #", precision=0, scale=3)
            unpin_it = gr.Button("Remove pinned answer", scale=1)

    # Shown when the tab is opened (an owner took an empty table for no data), and again
    # after a pin: the question it answers leaves the open ones at once.
    for shown in (show_gaps.click, tab.select):
        shown(gap_rows, bot, [gap_table, gap_question]).then(pinned_rows, bot, pinned)
    pin_it.click(
        pin, [bot, gap_question, gap_answer, keep_as_test], [pinned_note, pinned, gap_answer]
    ).then(gap_rows, bot, [gap_table, gap_question])
    unpin_it.click(unpin, [bot, unpin_id], [pinned_note, pinned])
