"""The chat API and embed page under their rules: allowed sites, sizes, rates, concurrency.

One server (embedded model), shared with the browser tests. It trusts X-Forwarded-For from
loopback, as it would behind a reverse proxy, so that each test can speak as visitors of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import EMBED_SERVER_ENV
from tests.servers import Server, start_conversation
from tests.servers import chat as post_chat

NO_MATCH_MS = "Siapakah perdana menteri Jepun?"  # nothing in the shop's documents: no model call


def chat(server: Server, message: str, **options: Any) -> Any:
    """The shop bot, as a visitor of its own unless a test names one."""
    return post_chat(server, message, **{"bot": "shop", "visitor": "203.0.113.1", **options})


@pytest.fixture(scope="module")
def server(embed_server: Server) -> Server:
    return embed_server


@pytest.fixture
def set_bot(run_cli, embed_shop: Path):  # type: ignore[no-untyped-def]
    """`chatbot bots set BOT k=v...` while the server runs."""

    def set_(bot: str, *pairs: str) -> None:
        result = run_cli("bots", "set", bot, *pairs, data_dir=embed_shop)
        assert result.code == 0, result.err

    return set_


def test_an_answer_streams_as_events_ending_with_its_sources(server: Server) -> None:
    response, events = chat(server, "How much does an iPhone 14 screen replacement cost?")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    assert len(names) >= 3  # text arrived before the end
    done = events[-1][1]
    # The price list's row for the iPhone 14, under its title and heading.
    assert done["answered"] is True and done["kind"] == "extract"
    assert done["answer"] == (
        "From our Gadget Care Penang price list · Screen replacement / Tukar skrin:\n"
        "iPhone 14 and iPhone 15: RM480"
    )
    assert [(s["source"], s["title"]) for s in done["sources"]] == [
        ("price-list.pdf", "Gadget Care Penang price list")
    ]
    assert done["conversation_id"] == events[0][1]["conversation_id"]


def test_a_follow_up_continues_the_conversation_and_it_can_be_shown_again(
    server: Server,
) -> None:
    _, first = chat(server, "How much does an iPhone 14 screen replacement cost?")
    conversation = first[0][1]["conversation_id"]
    _, second = chat(server, "And the battery?", conversation_id=conversation)
    assert second[0][1]["conversation_id"] == conversation
    # searched with its context: "the battery" alone finds nothing about prices
    assert any("battery" in s["text"].lower() for s in second[-1][1]["sources"])
    shown = httpx.get(f"{server.url}/api/bots/shop/conversations/{conversation}").json()
    assert [t["question"] for t in shown["turns"]] == [
        "How much does an iPhone 14 screen replacement cost?",
        "And the battery?",
    ]
    # An id the server never gave out starts nothing: a conversation begins with consent.
    refused, _ = chat(server, "Opening hours?", conversation_id="0" * 32)
    assert refused.status_code == 428


def test_the_embed_page_may_be_framed_only_by_the_sites_the_bot_allows(
    server: Server, set_bot
) -> None:  # type: ignore[no-untyped-def]
    set_bot("shop", "allowed_origins=https://gadgetcare.example,http://127.0.0.1:8123")
    page = httpx.get(f"{server.url}/embed/shop")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://gadgetcare.example http://127.0.0.1:8123" in policy
    assert "Gadget Care Penang" in page.text
    set_bot("shop", "allowed_origins=")  # embedding off: applied without a restart
    policy = httpx.get(f"{server.url}/embed/shop").headers["content-security-policy"]
    assert policy.endswith("frame-ancestors 'self'")
    assert httpx.get(f"{server.url}/embed/nobody").status_code == 404


def test_chat_requests_from_other_sites_are_refused(server: Server, set_bot) -> None:  # type: ignore[no-untyped-def]
    set_bot("shop", "allowed_origins=https://gadgetcare.example")
    allowed = {"Origin": "https://gadgetcare.example"}
    response, events = chat(server, NO_MATCH_MS, headers=allowed, visitor="203.0.113.20")
    assert response.status_code == 200 and events[-1][0] == "done"
    assert response.headers["access-control-allow-origin"] == "https://gadgetcare.example"

    for origin in ("https://copycat.example", "null", "http://gadgetcare.example"):
        response, _ = chat(
            server, NO_MATCH_MS, headers={"Origin": origin}, visitor="203.0.113.21", consent=False
        )
        assert response.status_code == 403
        assert response.json()["message"] == "This chat is not available on this website."
        assert "access-control-allow-origin" not in response.headers

    preflight = httpx.options(
        f"{server.url}/api/bots/shop/chat",
        headers={**allowed, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://gadgetcare.example"
    refused = httpx.options(
        f"{server.url}/api/bots/shop/chat", headers={"Origin": "https://copycat.example"}
    )
    assert refused.status_code == 403
    profile = httpx.get(f"{server.url}/api/bots/shop/profile", headers=refused.request.headers)
    assert profile.status_code == 403  # the launcher gets nothing to draw on that site


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        ({"message": "x" * 1001}, {}, 413, "Please keep it under 1000 characters."),
        ({"message": "   "}, {}, 400, "Please type a question."),
        ({"text": "hello"}, {}, 400, "could not be read"),
        ("not json", {}, 400, "could not be read"),
        ({"message": "hi"}, {"Content-Type": "text/plain"}, 415, "could not be read"),
        ({"message": "Berapa harga? " + "x" * 1000}, {}, 413, "Sila hadkan kepada 1000 aksara."),
        ({"message": "   "}, {"Accept-Language": "zh-CN,zh;q=0.9"}, 400, "请输入您的问题。"),
    ],
)
def test_bad_requests_get_a_polite_one_line_refusal_in_the_visitors_language(
    server: Server, body: Any, headers: dict[str, str], status: int, message: str
) -> None:
    if isinstance(body, dict):  # agreed to the notice, so the message itself is what is judged
        body = {**body, "conversation_id": start_conversation(server, bot="shop")}
    content = body if isinstance(body, str) else json.dumps(body)
    response = httpx.post(
        f"{server.url}/api/bots/shop/chat",
        content=content,
        headers={"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.30", **headers},
    )
    assert response.status_code == status
    assert message in response.json()["message"]
    assert "\n" not in response.json()["message"]


def test_a_huge_upload_is_refused_without_being_read(server: Server) -> None:
    def endless() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(5000):  # 50 MB if it were all read
            yield b"x" * 10_000

    response = httpx.post(
        f"{server.url}/api/bots/shop/chat",
        content=endless(),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 413
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_visitor_over_the_rate_limit_is_told_politely_even_when_requests_arrive_at_once(
    server: Server, set_bot
) -> None:  # type: ignore[no-untyped-def]
    set_bot("kiosk", "limits.visitor_messages_per_minute=3")
    with ThreadPoolExecutor(16) as pool:
        results = list(
            pool.map(
                lambda _: chat(server, NO_MATCH_MS, bot="kiosk", visitor="198.51.100.7"), range(16)
            )
        )
    statuses = sorted(r.status_code for r, _ in results)
    assert statuses == [200] * 3 + [429] * 13
    refused = next(r for r, _ in results if r.status_code == 429)
    assert int(refused.headers["retry-after"]) > 0
    assert refused.json()["message"].startswith("Anda menghantar mesej terlalu cepat.")
    # Another visitor is not held back, and a made-up header from an untrusted peer is ignored
    # (unit-tested in test_visitors.py); here the proxy is trusted.
    other, _ = chat(server, NO_MATCH_MS, bot="kiosk", visitor="198.51.100.8")
    assert other.status_code == 200


def test_the_bots_own_limit_holds_across_visitors(server: Server, set_bot) -> None:  # type: ignore[no-untyped-def]
    set_bot("kiosk", "limits.bot_messages_per_minute=30", "limits.visitor_messages_per_minute=50")
    with ThreadPoolExecutor(16) as pool:
        results = list(
            pool.map(
                lambda i: chat(server, NO_MATCH_MS, bot="kiosk", visitor=f"192.0.2.{i}"),
                range(40),
            )
        )
    statuses = [r.status_code for r, _ in results]
    # At most 30 a minute in all (earlier tests of this minute used some of them); of those let
    # through, some may be told the bot is busy (503): at most 4 answers at once, 16 waiting.
    assert statuses.count(200) <= 30 and statuses.count(429) >= 10
    refused = next(r for r, _ in results if r.status_code == 429)
    assert refused.json()["message"].startswith("Kami sedang membantu ramai pelanggan.")
    set_bot("kiosk", "limits.bot_messages_per_minute=1000")


def test_a_conversation_is_capped_and_the_visitor_told_to_start_anew(
    server: Server, set_bot
) -> None:  # type: ignore[no-untyped-def]
    set_bot("kiosk", "limits.max_turns=2")
    _, events = chat(server, NO_MATCH_MS, bot="kiosk", visitor="198.51.100.40")
    conversation = events[0][1]["conversation_id"]
    second, _ = chat(
        server, NO_MATCH_MS, bot="kiosk", visitor="198.51.100.40", conversation_id=conversation
    )
    assert second.status_code == 200
    third, _ = chat(
        server,
        "Is the shop open on Sunday?",
        bot="kiosk",
        visitor="198.51.100.40",
        conversation_id=conversation,
    )
    assert third.status_code == 409
    assert third.json()["message"] == "This conversation is full. Please start a new conversation."
    set_bot("kiosk", "limits.max_turns=40")


def test_answers_generated_at_once_are_bounded_and_the_rest_told_the_bot_is_busy(
    embed_shop: Path, cli_env: dict[str, str]
) -> None:
    env = {
        **EMBED_SERVER_ENV,
        "CHATBOT_SERVER__CONCURRENT_ANSWERS": "1",
        "CHATBOT_SERVER__WAITING_ANSWERS": "0",
        # The model writes answers (it takes a second or two each, holding the slot); by
        # default the embedded setup answers with an extract in milliseconds.
        "CHATBOT_ANSWERING__MODEL_ANSWERS": "yes",
    }
    server = Server(embed_shop, env, cli_env)
    question = "How much does an iPhone 14 screen replacement cost?"  # the model is asked
    try:
        from chatbot.llm.llamacpp import packaged_gguf

        # Loaded before the server took its first customer, as a model that answers is.
        assert server.holds(packaged_gguf())
        with ThreadPoolExecutor(4) as pool:
            results = list(
                pool.map(lambda i: chat(server, question, visitor=f"198.51.100.{60 + i}"), range(4))
            )
        # the server is still good for the next customer once the answer is done
        after, events = chat(server, question, visitor="198.51.100.70")
    finally:
        server.stop()
    answered = [events for r, events in results if r.status_code == 200]
    busy = [r for r, _ in results if r.status_code == 503]
    assert len(answered) == 1 and len(busy) == 3
    assert answered[0][-1][0] == "done"
    assert busy[0].json()["message"].startswith("We're helping many customers right now.")
    assert after.status_code == 200 and events[-1][0] == "done"


def test_a_customer_rates_an_answer_of_their_own_conversation_only(server: Server) -> None:
    _, events = chat(server, NO_MATCH_MS, bot="kiosk", visitor="198.51.100.80")
    done = events[-1][1]
    conversation, answer_id = done["conversation_id"], done["answer_id"]
    url = f"{server.url}/api/bots/kiosk/answers/{answer_id}/rating"
    rated = httpx.post(url, json={"conversation_id": conversation, "rating": "down"})
    assert rated.status_code == 204
    shown = httpx.get(f"{server.url}/api/bots/kiosk/conversations/{conversation}").json()
    assert shown["turns"][0]["rating"] == -1
    # Someone else's conversation, another bot, or a made-up value: refused, nothing changed.
    for target, body, status in [
        (url, {"conversation_id": "f" * 32, "rating": "up"}, 404),
        (url.replace("/kiosk/", "/shop/"), {"conversation_id": conversation, "rating": "up"}, 404),
        (url, {"conversation_id": conversation, "rating": "great"}, 400),
    ]:
        assert httpx.post(target, json=body).status_code == status
    shown = httpx.get(f"{server.url}/api/bots/kiosk/conversations/{conversation}").json()
    assert shown["turns"][0]["rating"] == -1


def test_each_bot_answers_with_its_own_model_and_answer_mode(
    server: Server, set_bot, ollama_stub: Any
) -> None:  # type: ignore[no-untyped-def]
    question = "Is the shop open on Sunday?"
    ollama_stub.state.reply = "We are open Monday to Saturday, 10am to 8pm, closed on Sundays."
    set_bot("kiosk", "model=qwen2.5:3b")  # an Ollama model for this bot; shop keeps the embedded
    try:
        _, events = chat(server, question, bot="kiosk", visitor="198.51.100.90")
        assert events[-1][1]["answer"] == ollama_stub.state.reply
        set_bot("kiosk", "answer_mode=extract")  # quotes its documents, asks no model
        _, events = chat(server, question, bot="kiosk", visitor="198.51.100.91")
        assert events[-1][1]["answer"].startswith("From our FAQ:")
    finally:
        set_bot("kiosk", "model=", "answer_mode=default")


def test_a_bot_answers_only_in_its_languages(server: Server, set_bot) -> None:  # type: ignore[no-untyped-def]
    set_bot("kiosk", "languages=ms,zh")  # a customer writing English is answered in Malay
    try:
        _, events = chat(
            server, "Who is the prime minister of Japan?", bot="kiosk", visitor="198.51.100.95"
        )
        done = events[-1][1]
        assert done["language"] == "ms"
        assert done["answer"].startswith("Maaf, saya tidak menjumpai maklumat itu.")
    finally:
        set_bot("kiosk", "languages=")


def test_malformed_requests_get_a_json_refusal_and_the_server_keeps_serving(
    server: Server,
) -> None:
    """Review #15: each of these was a plain-text 500, or a stream ending in an error."""
    headers = {"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.77"}
    conversation = start_conversation(server, bot="shop", headers=headers)
    nested = '{"message": ' + "[" * 5000 + "]" * 5000 + "}"  # past json's recursion limit
    surrogate = '{"message": "Is it open \\ud800?", "conversation_id": "' + conversation + '"}'
    for body in (nested, surrogate):
        response = httpx.post(f"{server.url}/api/bots/shop/chat", content=body, headers=headers)
        assert response.status_code == 400, response.text[:200]
        assert response.json()["error"] == "bad_request"
    too_big = httpx.post(
        f"{server.url}/api/bots/shop/answers/{2**70}/rating",
        json={"conversation_id": conversation, "rating": "up"},
        headers=headers,
    )
    assert too_big.status_code == 404 and too_big.json()["error"] == "bad_request"
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_an_answer_the_guard_withholds_never_reaches_the_screen(
    server: Server, set_bot, ollama_stub: Any
) -> None:  # type: ignore[no-untyped-def]
    # Seen on screen for a second before the guard took it back: RM350 is a screen's price.
    ollama_stub.state.reply = "Battery replacement for iPhone 14 is available for RM350. Come in!"
    set_bot("shop", "model=qwen2.5:3b")
    try:
        _, events = chat(
            server,
            "How much does an iPhone battery replacement cost?",
            bot="shop",
            visitor="198.51.100.97",
        )
        names = [name for name, _ in events]
        assert names[0] == "start" and names[-1] == "done" and "replace" not in names
        shown = "".join(data["text"] for name, data in events if name == "delta")
        assert "RM350" not in shown
        done = events[-1][1]
        assert done["kind"] == "extract" and done["answered"] is True
        assert "iPhone battery: RM150" in done["answer"] and "RM350" not in done["answer"]
        assert done["sources"][0]["title"] == "Gadget Care Penang price list"
        # An answer that passes is shown once the guard has passed all of it, in one piece.
        ollama_stub.state.reply = "An iPhone battery replacement costs RM150. It takes 45 minutes."
        _, events = chat(
            server,
            "How much does an iPhone battery replacement cost?",
            bot="shop",
            visitor="198.51.100.98",
        )
        deltas = [data["text"] for name, data in events if name == "delta"]
        assert deltas == [ollama_stub.state.reply]
        assert events[-1][1]["kind"] == "model"
    finally:
        set_bot("shop", "model=")
