"""The customer chat page of one bot: greeting, suggested questions, streamed answers, sources."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from chatbot.answering.chain import Answerer, Turn
from chatbot.answering.result import Answer, Delta, Done, Replace
from chatbot.conversations import ConversationLog, new_conversation_id
from chatbot.settings import BotProfile

log = logging.getLogger(__name__)

# Sources are shown under the answer, after this line; it also marks where the answer ends when
# the conversation is read back for a follow-up.
SOURCES_RULE = "\n\n---\n"

# System fonts only: Gradio's default theme loads Google Fonts, which would tell Google about
# every visitor of the business's site.
_FONTS = ("ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif")
_MONO = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")


def sources_markdown(answer: Answer, label: str) -> str:
    if not answer.sources:
        return ""
    labels = dict.fromkeys(source.label() for source in answer.sources)  # once each, in order
    items = "\n".join(f"- {item}" for item in labels)
    return f"{SOURCES_RULE}**{label}**\n{items}"


def message_text(content: Any) -> str:
    """A chat message's text: Gradio sends a string, or a list of parts like {"text": ...}."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def turns_from(history: list[dict[str, Any]]) -> list[Turn]:
    """(question, answer) pairs from the chat's messages, sources stripped, greeting skipped."""
    turns: list[Turn] = []
    question: str | None = None
    for message in history:
        text = message_text(message.get("content"))
        if message.get("role") == "user":
            question = text
        elif question is not None:
            turns.append(Turn(question, text.split(SOURCES_RULE)[0]))
            question = None
    return turns


def theme() -> Any:
    import gradio as gr

    return gr.themes.Soft(font=_FONTS, font_mono=_MONO)


def build_chat(
    bot: str,
    answerer: Answerer,
    profile: BotProfile,
    conversations: ConversationLog,
    sources_label: str,
) -> Any:
    import gradio as gr

    def respond(
        message: str, history: list[dict[str, Any]] | None, conversation_id: str | None
    ) -> Iterator[tuple[str, list[dict[str, Any]], str]]:
        conversation_id = conversation_id or new_conversation_id()
        history = list(history or [])
        turns = turns_from(history)
        history += [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        text = ""
        for event in answerer.stream(message, turns):
            if isinstance(event, Delta):
                text += event.text
            elif isinstance(event, Replace):
                text = event.text
            elif isinstance(event, Done):
                text = event.answer.text + sources_markdown(event.answer, sources_label)
                conversations.record(bot, conversation_id, event.answer)
            history[-1] = {"role": "assistant", "content": text}
            yield "", history, conversation_id

    with gr.Blocks(title=profile.title, analytics_enabled=False) as blocks:
        gr.Markdown(f"### {profile.title}")
        conversation = gr.State(None)
        chat = gr.Chatbot(
            value=[{"role": "assistant", "content": profile.greeting}],
            show_label=False,
            height=480,
        )
        with gr.Row():
            box = gr.Textbox(placeholder="Type your question…", show_label=False, scale=8)
            send = gr.Button("Send", variant="primary", scale=1)
        if profile.suggestions:
            gr.Examples(examples=[[s] for s in profile.suggestions], inputs=[box], label=None)
        box.submit(respond, [box, chat, conversation], [box, chat, conversation], api_name="chat")
        send.click(
            respond, [box, chat, conversation], [box, chat, conversation], api_visibility="private"
        )
    return blocks
