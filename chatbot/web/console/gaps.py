"""The Gaps tab: the questions the bot could not answer, grouped when they ask the same thing;
staff write the right answer once and pin it."""

from __future__ import annotations

from typing import Any

import gradio as gr

from chatbot.actions.evaluation import keep_answer_as_question
from chatbot.actions.pins import pin_answer, unpin_answer
from chatbot.answering.pinned import PINNED_SOURCE
from chatbot.store.gaps import group_gaps
from chatbot.web.console.common import (
    Console,
    confirmation,
    confirmed,
    md_text,
    refusal,
    short_ref,
    told_to_staff,
    when,
)

# How often an open console looks for new open questions: a query, and a regrouping only when
# there is something new.
REFRESH_S = 5.0
GAP_COLUMNS = ["question", "asked", "last asked", "conversations", "also asked as"]
PIN_COLUMNS = ["#", "question", "answer", "by", "when"]


def gaps_tab(console: Console, bot: gr.Dropdown) -> None:
    services = console.services

    def gap_rows(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        """The open questions, and the choice of one to answer."""
        console.staff(request, bot)
        drawn = open_questions(bot, None)
        assert drawn is not None  # nothing seen before: always drawn
        rows, choices, _mark = drawn
        return rows, gr.update(choices=choices, value=None)

    def watch(bot: str, seen: list[Any] | None, request: gr.Request):  # type: ignore[no-untyped-def]
        """The open questions redrawn when they changed since `seen`, else nothing."""
        console.staff(request, bot)
        drawn = open_questions(bot, seen)
        if drawn is None:
            return gr.skip(), gr.skip(), seen
        rows, choices, mark = drawn
        # The question being answered stays chosen while the list changes under it.
        return rows, gr.update(choices=choices), mark

    def open_questions(bot: str, seen: list[Any] | None) -> tuple[Any, list[str], Any] | None:
        """The table's rows, the questions and what they were drawn from; None when customers
        asked nothing new and no answer was pinned or removed since `seen` (grouping embeds
        every open question: too much to do every few seconds for each open console)."""
        asked = services.conversations.gaps(bot) if bot else []
        pins = services.pins.all(bot) if bot else []
        mark = [bot, len(asked), asked[0]["created_at"] if asked else 0, [p.id for p in pins]]
        if mark == seen:
            return None
        pinned = [(p.question, p.created_at) for p in pins]
        gaps = group_gaps(asked, services.embedder.embed_documents, pinned)
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
        return rows, [g.question for g in gaps], mark

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

    def ask_unpin(bot: str, pin_id: float | None, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        found = next((p for p in services.pins.all(bot) if p.id == int(pin_id or 0)), None)
        if found is None:
            raise refusal("Type the number of one of the pinned answers (the # column).")
        return unpinning.ask(
            f"**Remove pinned answer {found.id}?** Customers asking “{md_text(found.question)}”"
            " get the bot's own answer from the documents again.",
            (bot, found.id),
        )

    def unpin(bot: str, target: Any, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        pin_id = confirmed(target, bot)
        if pin_id is None:
            return unpinning.nothing(2)
        with told_to_staff():
            unpin_answer(services, bot, pin_id, account.username)
        return unpinning.done(f"Removed pinned answer {pin_id}.", pin_rows(bot))

    with gr.Tab("Gaps") as tab:
        seen = gr.State(None)  # what the open questions were last drawn from
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
        unpinning = confirmation("Yes, remove it", bot)

    # Shown when the tab is opened (an owner took an empty table for no data), kept current
    # while the console is open (a new customer's question appears by itself), and redrawn
    # after a pin: the question it answers leaves the open ones at once.
    gaps_shown = [gap_table, gap_question, seen]
    for shown in (show_gaps.click, tab.select):
        shown(gap_rows, bot, [gap_table, gap_question]).then(pinned_rows, bot, pinned)
    gr.Timer(REFRESH_S).tick(watch, [bot, seen], gaps_shown)
    pin_it.click(
        pin, [bot, gap_question, gap_answer, keep_as_test], [pinned_note, pinned, gap_answer]
    ).then(gap_rows, bot, [gap_table, gap_question])
    unpin_it.click(ask_unpin, [bot, unpin_id], unpinning.asked)
    unpinned = unpinning.yes.click(
        unpin, [bot, unpinning.target], [pinned_note, pinned, *unpinning.asked]
    )
    unpinned.then(gap_rows, bot, [gap_table, gap_question])
