"""The "Try the bot" tab: ask as a customer would, and see the answer with the passages it was
actually given from (those the model was shown, or the one the extract quotes), not a second
search's."""

from __future__ import annotations

from typing import Any

import gradio as gr

from chatbot.web.console.common import KIND_LABELS, Console, md_text, refusal

SOURCE_COLUMNS = ["document", "title customers see", "page", "section", "text"]


def try_bot_tab(console: Console, bot: gr.Dropdown) -> None:
    def try_bot(bot: str, question: str, request: gr.Request) -> tuple[str, list[list[Any]]]:
        console.staff(request, bot)
        if not bot:
            raise refusal("Choose a bot first (or make one: type the business's name above).")
        if not question.strip():
            raise refusal("Type a question.")
        answer = console.services.answerer(bot).answer(question)
        verdict = (
            f"answered by {KIND_LABELS[answer.kind]}"
            if answer.answered
            else f"not answered ({answer.fallback})"
        )
        text = f"{md_text(answer.text)}\n\n*{verdict}; model {md_text(answer.model or 'none')}*"
        used = [[s.source, s.title, s.page or "", s.section, s.text] for s in answer.sources]
        return text, used

    with gr.Tab("Try the bot"):
        question = gr.Textbox(label="Ask as a customer would")
        ask = gr.Button("Ask", variant="primary")
        reply = gr.Markdown()
        used = gr.Dataframe(
            wrap=True,
            headers=SOURCE_COLUMNS,
            label="Passages the answer came from",
            interactive=False,
        )
    ask.click(try_bot, [bot, question], [reply, used])
    question.submit(try_bot, [bot, question], [reply, used])
