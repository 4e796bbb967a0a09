"""`chatbot serve`: the customer chat over HTTP, driven by a real client on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.ollama_stub import OllamaStub
from tests.servers import Server, chat, shown_text, sources_of


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


def test_the_embedded_model_the_answers_never_ask_is_not_loaded(served: Server) -> None:
    # On the zero-setup default the extract answers (`model_answers: auto`; the 135M model
    # cannot write from sources): the server does not hold the model, 190 MB of a shop PC.
    from chatbot.llm.llamacpp import packaged_gguf

    _, events = chat(served, "How much does an iPhone battery replacement cost?")
    assert "RM150" in shown_text(events) and events[-1][1]["kind"] == "extract"
    assert not served.holds(packaged_gguf())


def test_the_chat_page_shows_the_bot_and_loads_nothing_from_elsewhere(served: Server) -> None:
    home = httpx.get(f"{served.url}/", follow_redirects=True)
    assert home.url.path == "/chat/demo-shop/"
    assert "Gadget Care Penang" in home.text
    assert "Ask me about repairs" in home.text  # the greeting, from the bot's profile
    # Visitors' browsers are sent nowhere else: no fonts, scripts or images from other hosts.
    policy = home.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "https://" not in home.text.split("</head>")[0]


def test_a_customer_chats_with_a_follow_up_and_sees_sources(served: Server) -> None:
    response, events = chat(served, "How much does an iPhone 14 screen replacement cost?")
    assert response.status_code == 200
    assert any(name in ("delta", "replace") for name, _ in events)  # text came before the end
    assert shown_text(events) and sources_of(events)
    conversation = events[0][1]["conversation_id"]
    _, follow_up = chat(served, "And the battery?", conversation_id=conversation)
    assert follow_up[0][1]["conversation_id"] == conversation
    done = follow_up[-1][1]
    # The follow-up was searched with its context: "the battery" alone is about nothing.
    assert any("battery" in s["text"].lower() for s in done["sources"])


@pytest.mark.parametrize(
    ("message", "status", "reply"),
    [("   ", 400, "Please type a question."), ("x" * 10_000, 413, "That message is too long.")],
)
def test_bad_messages_get_a_clear_reply_and_the_server_keeps_serving(
    served: Server, message: str, status: int, reply: str
) -> None:
    response, _ = chat(served, message)
    assert response.status_code == status
    assert response.json()["message"].startswith(reply)
    assert httpx.get(f"{served.url}/healthz").status_code == 200


def test_ollama_dying_mid_stream_gives_the_documents_answer_and_the_next_customer_is_served(
    demo_shop: Path, cli_env: dict[str, str]
) -> None:
    with OllamaStub() as stub:
        env = {"CHATBOT_MODEL__BACKEND": "ollama", "CHATBOT_MODEL__OLLAMA_HOST": stub.url}
        server = Server(demo_shop, env, cli_env)
        try:
            stub.state.reply = "An iPhone 14 screen replacement costs RM480."
            stub.state.die_after_chunks = 4
            _, events = chat(server, "How much is an iPhone 14 screen?")
            # Not half an answer: the price list's row, the extract.
            assert shown_text(events).endswith("\niPhone 14 and iPhone 15: RM480")
            assert events[-1][1]["kind"] == "extract"
            stub.state.die_after_chunks = None
            _, events = chat(server, "How much is an iPhone 14 screen?")
            assert shown_text(events).startswith("An iPhone 14 screen replacement costs RM480.")
            assert events[-1][1]["kind"] == "model"
        finally:
            server.stop()
    if os.environ.get("CHATBOT_KEEP_LOGS"):
        print(server.log.read_text())


def test_the_quick_start_demo_sets_up_the_shop_and_serves_it(
    tmp_path: Path, cli_env: dict[str, str], run_cli
) -> None:
    server = Server(tmp_path, {"CHATBOT_MODEL__BACKEND": "llamacpp"}, cli_env, verb="demo")
    try:
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["bots"] == ["demo-shop"]
        page = httpx.get(f"{server.url}/", follow_redirects=True).text
        assert "Gadget Care Penang" in page
        _, events = chat(server, "Adakah kedai buka pada hari Ahad?")
        assert "faq.csv" in sources_of(events)
        # The README's own next step, from another process: one field changes, the rest of the
        # demo's profile stays (it lived only inside the demo process before).
        changed = run_cli(
            "bots", "set", "demo-shop", "allowed_origins+=https://shop.example", data_dir=tmp_path
        )
        assert changed.code == 0, changed.err
        profile = httpx.get(f"{server.url}/api/bots/demo-shop/profile").json()
        assert profile["title"] == "Gadget Care Penang · phone repairs"
        assert "Ask me about repairs" in profile["greeting"]
    finally:
        server.stop()
    assert "ingested: 3 (" in server.log.read_text()


def test_serve_starts_with_no_bots_and_an_empty_bot_says_politely_it_is_not_ready(
    tmp_path: Path, run_cli, cli_env: dict[str, str]
) -> None:
    """A new business (or a new Docker volume) has no bot yet: the server must start, so that
    the first bot can be made in the console."""
    server = Server(tmp_path, {"CHATBOT_ANSWERING__MODE": "extract"}, cli_env)
    try:
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["bots"] == []
        home = httpx.get(f"{server.url}/")
        assert home.status_code == 307 and home.headers["location"] == "/admin/"
        made = run_cli("bots", "create", "kedai", "contact=04-262 1234", data_dir=tmp_path)
        assert made.code == 0, made.err
        ready = httpx.get(f"{server.url}/readyz").json()
        assert ready["bots"] == ["kedai"] and ready["bots_without_documents"] == ["kedai"]
        _, events = chat(server, "Do you open on Sunday?", bot="kedai")
        assert shown_text(events).startswith("Sorry, this assistant is not ready yet")
        assert "04-262 1234" in shown_text(events)
        assert events[-1][1]["fallback"] == "not_ready"
        _, events = chat(server, "Adakah kedai buka pada hari Ahad?", bot="kedai")
        assert shown_text(events).startswith("Maaf, pembantu ini belum sedia")
    finally:
        server.stop()
