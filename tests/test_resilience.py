"""The server keeps answering whatever visitors and models do: visitors who leave mid-answer,
models that stall or dawdle, and an operator stopping it (review #15, the critical finding)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ollama_stub import OllamaStub
from tests.servers import Server, chat, shown_text, start_conversation

QUESTION = "How much does an iPhone 14 screen replacement cost?"


@pytest.fixture(scope="module")
def stub(ollama_stub: OllamaStub) -> OllamaStub:
    """The session's Ollama stub; tests here put back what they change of its behaviour."""
    return ollama_stub


@pytest.fixture(scope="module")
def served(embed_shop: Path, cli_env: dict[str, str], stub: OllamaStub) -> Iterator[Server]:
    """The embedded model answers bot `shop`; answers may take 20 s at most. The Ollama stub
    is there for bots that choose an Ollama model of their own."""
    env = {
        "CHATBOT_MODEL__BACKEND": "llamacpp",
        "CHATBOT_MODEL__OLLAMA_HOST": stub.url,
        "CHATBOT_ANSWERING__MAX_GENERATION_S": "20",  # MARK
        "CHATBOT_SERVER__TRUSTED_PROXIES": '["127.0.0.1/32"]',
    }
    server = Server(embed_shop, env, cli_env)
    yield server
    server.stop()


def leave_after_start(server: Server, bot: str, visitor: str, event: str = "start") -> None:
    """A visitor asks, sees the stream begin (`start`) or the first words (`delta`), and
    closes the browser."""
    headers = {"X-Forwarded-For": visitor}
    conversation = start_conversation(server, bot=bot, headers=headers)
    with httpx.stream(
        "POST",
        f"{server.url}/api/bots/{bot}/chat",
        json={"message": QUESTION, "conversation_id": conversation},
        headers=headers,
        timeout=30,
    ) as response:
        assert response.status_code == 200
        for piece in response.iter_text():
            if f"event: {event}" in piece:
                break  # and the connection is closed with the stream half read


def test_visitors_who_leave_mid_answer_do_not_stop_the_others_being_answered(
    served: Server,
) -> None:
    for n in range(3):
        leave_after_start(served, "shop", f"203.0.113.{n + 1}")
    # Before the fix the fourth question got `start` and then nothing, for ever.
    response, events = chat(served, QUESTION, bot="shop", visitor="203.0.113.9")
    assert response.status_code == 200
    assert events[-1][0] == "done", events
    assert shown_text(events)
    ready = httpx.get(f"{served.url}/readyz", timeout=30)
    assert ready.status_code == 200, ready.text


@pytest.fixture(scope="module")
def make_ollama_bot(embed_shop: Path, run_cli) -> str:  # type: ignore[no-untyped-def]
    """A bot answered by the stub's model (its answers as generated, no guard), with the demo
    shop's documents; made while the server runs, as staff would."""
    name = "slow"
    created = run_cli(
        "bots", "create", name, "model=qwen2.5:3b", "answer_mode=generate", data_dir=embed_shop
    )
    assert created.code == 0, created.err
    documents = Path(__file__).parents[1] / "chatbot" / "demo" / "documents"
    ingested = run_cli("ingest", "--bot", name, str(documents), data_dir=embed_shop)
    assert ingested.code == 0, ingested.err
    return name


def test_a_visitor_leaving_closes_the_ollama_stream_at_once(
    served: Server, stub: OllamaStub, make_ollama_bot: str
) -> None:
    stub.state.client_left.clear()
    reply = stub.state.reply
    stub.state.reply = "Our opening hours are ten in the morning to eight at night. " * 20
    stub.state.chunk_pause_s = 0.1
    try:
        leave_after_start(served, make_ollama_bot, "203.0.113.20", event="delta")
        # The stub writes a chunk every 0.1 s: it notices the closed stream within a second
        # of our server closing it. Before the fix the server read the whole answer (12 s).
        assert stub.state.client_left.wait(timeout=4), "the Ollama stream was left open"
    finally:
        stub.state.chunk_pause_s, stub.state.reply = 0.0, reply


def test_an_answer_past_the_time_limit_is_the_extract_and_readiness_says_so(
    served: Server, stub: OllamaStub, make_ollama_bot: str
) -> None:
    reply = stub.state.reply
    stub.state.reply = "An iPhone 14 screen replacement costs RM480 this week only."
    stub.state.flowing.clear()  # the model takes the prompt and says nothing
    result: dict[str, Any] = {}

    def ask() -> None:
        result["events"] = chat(served, QUESTION, bot=make_ollama_bot, visitor="203.0.113.30")[1]

    asking = threading.Thread(target=ask)
    asking.start()
    try:
        # /readyz turns 503 once a request has had no token for longer than the limit (20 s).
        deadline = time.monotonic() + 60
        ready = httpx.get(f"{served.url}/readyz", timeout=30)
        while ready.status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.5)  # polling for a state, not timing anything
            ready = httpx.get(f"{served.url}/readyz", timeout=30)
        assert ready.status_code == 503, ready.text
        assert any("no token" in why for why in ready.json()["problems"].values()), ready.text
    finally:
        stub.state.flowing.set()
    asking.join(timeout=60)
    stub.state.reply = reply
    events = result["events"]
    done = events[-1][1]
    # What came after the limit was not shown; the price list's row was.
    assert done["kind"] == "extract", done
    assert "this week only" not in done["answer"]
    assert done["answer"].endswith("\niPhone 14 and iPhone 15: RM480")
    assert httpx.get(f"{served.url}/readyz", timeout=30).status_code == 200


def test_sigterm_stops_the_server_within_ten_seconds_even_mid_answer(
    embed_shop: Path, cli_env: dict[str, str], stub: OllamaStub, make_ollama_bot: str
) -> None:
    env = {"CHATBOT_MODEL__BACKEND": "llamacpp", "CHATBOT_MODEL__OLLAMA_HOST": stub.url}
    server = Server(embed_shop, env, cli_env)
    stub.state.flowing.clear()  # an answer that will not end by itself
    try:
        conversation = start_conversation(server, bot=make_ollama_bot)
        with httpx.stream(
            "POST",
            f"{server.url}/api/bots/{make_ollama_bot}/chat",
            json={"message": QUESTION, "conversation_id": conversation},
            timeout=30,
        ) as response:
            first = next(response.iter_text())
            assert "event: start" in first
            server.proc.send_signal(signal.SIGTERM)
            stopped_at = time.monotonic()
            code = server.proc.wait(timeout=30)
            assert time.monotonic() - stopped_at < 10
            assert code is not None
    finally:
        stub.state.flowing.set()
        server.stop()
