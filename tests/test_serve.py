"""`chatbot serve`: the customer chat over HTTP, driven by a real client on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatbot.web.chat_ui import message_text
from tests.ollama_stub import OllamaStub
from tests.servers import Server


def say(
    client: Any, message: str, history: list[dict[str, Any]]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Send a message as the chat page does; every streamed state of the last answer, and the
    final history."""
    job = client.submit(message, history, api_name="/chat")
    states = []
    for _, messages in job:
        states.append(message_text(messages[-1]["content"]) if messages else "")
    return states, job.result()[1]


def last_text(history: list[dict[str, Any]]) -> str:
    return message_text(history[-1]["content"])


@pytest.fixture(scope="module")
def served(demo_shop: Path, cli_env: dict[str, str]) -> Iterator[Server]:
    server = Server(demo_shop, {"CHATBOT_MODEL__BACKEND": "llamacpp"}, cli_env)
    yield server
    server.stop()


def test_health_and_readiness_answer(served: Server) -> None:
    assert httpx.get(f"{served.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{served.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["model"].startswith("llamacpp:SmolLM2-135M-Instruct")


def test_the_chat_page_shows_the_bot_greeting_and_suggestions(served: Server) -> None:
    page = httpx.get(f"{served.url}/chat/demo-shop/", follow_redirects=True).text
    assert "Gadget Care Penang" in page
    assert "fonts.googleapis.com" not in page  # visitors' browsers are not sent to Google


def test_a_customer_chats_with_a_follow_up_and_sees_sources(served: Server) -> None:
    client = served.chat()
    states, history = say(client, "How much does an iPhone 14 screen replacement cost?", [])
    answer = last_text(history)
    assert len(states) > 1  # it streamed
    assert "**Sources**" in answer and "price-list.pdf" in answer
    states, history = say(client, "And the battery?", history)
    follow_up = last_text(history)
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    assert "**Sources**" in follow_up
    assert "price-list.pdf" in follow_up  # the follow-up was searched with its context


@pytest.mark.parametrize(
    ("message", "reply"),
    [("   ", "Please type a question."), ("x" * 10_000, "Your message is too long.")],
)
def test_bad_messages_get_a_clear_reply_and_the_server_keeps_serving(
    served: Server, message: str, reply: str
) -> None:
    _, history = say(served.chat(), message, [])
    assert last_text(history).startswith(reply)
    assert httpx.get(f"{served.url}/healthz").status_code == 200


def test_ollama_dying_mid_stream_is_an_offline_message_and_the_next_customer_is_served(
    demo_shop: Path, cli_env: dict[str, str]
) -> None:
    with OllamaStub() as stub:
        env = {"CHATBOT_MODEL__BACKEND": "ollama", "CHATBOT_MODEL__OLLAMA_HOST": stub.url}
        server = Server(demo_shop, env, cli_env)
        try:
            stub.state.reply = "An iPhone 14 screen replacement costs RM480."
            stub.state.die_after_chunks = 4
            _, history = say(server.chat(), "How much is an iPhone 14 screen?", [])
            assert last_text(history).startswith("Sorry, the assistant is offline right now.")
            stub.state.die_after_chunks = None
            _, history = say(server.chat(), "How much is an iPhone 14 screen?", [])
            assert last_text(history).startswith("An iPhone 14 screen replacement costs RM480.")
        finally:
            server.stop()
    if os.environ.get("CHATBOT_KEEP_LOGS"):
        print(server.log.read_text())


def test_the_quick_start_demo_sets_up_the_shop_and_serves_it(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    server = Server(tmp_path, {"CHATBOT_MODEL__BACKEND": "llamacpp"}, cli_env, verb="demo")
    try:
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["bots"] == ["demo-shop"]
        page = httpx.get(f"{server.url}/", follow_redirects=True).text
        assert "Gadget Care Penang" in page
        _, history = say(server.chat(), "Adakah kedai buka pada hari Ahad?", [])
        assert "faq.csv" in last_text(history)
    finally:
        server.stop()
    assert "ingested: 3 (" in server.log.read_text()
