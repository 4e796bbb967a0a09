"""Short-lived state shared by several servers (#20): the store's guarantees on both engines it
runs on (a Redis server and a PostgreSQL server of the tests' own), then two `chatbot serve`
processes on one PostgreSQL, one Redis and one Chroma server: a conversation continues on
either, a visitor's limit and a bot's answer slots hold across both."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DEMO
from tests.graph_stub import GraphStub, message, signed_post, webhook
from tests.ollama_stub import OllamaStub
from tests.postgres import postgres_server
from tests.redis_server import redis_server
from tests.servers import (
    Server,
    chat,
    chroma_server,
    free_port,
    sources_of,
    start_conversation,
)
from tests.test_jobs import Worker, _until

pytestmark = pytest.mark.slow
WA_NUMBER_ID, WA_TOKEN, WA_SECRET = "1055501234567", "EAAG-two-servers-token", "app-secret-1234"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["redis", "postgresql"])
def stores(request: pytest.FixtureRequest, redis_url: str, database: str) -> Iterator[list[Any]]:
    """Two stores on one engine, as two servers have: what one counts, the other sees."""
    if request.param == "redis":
        from chatbot.shared_state.redis import RedisStore

        made: list[Any] = [RedisStore(redis_url, prefix=f"{request.node.name}:") for _ in "ab"]
    else:
        from chatbot.shared_state.database import DatabaseStore
        from chatbot.store.database import open_database

        made = [DatabaseStore(open_database(database)) for _ in "ab"]
    yield made
    for store in made:
        store.close()


def _key(request: pytest.FixtureRequest, name: str) -> str:
    return f"{request.node.name}:{name}"  # each test's keys its own on the shared engines


def test_a_limit_counted_by_two_servers_at_once_lets_exactly_that_many_through(
    stores: list[Any], request: pytest.FixtureRequest
) -> None:
    key = _key(request, "visitor")
    with ThreadPoolExecutor(8) as pool:  # 40 requests at once, half to each server
        waits = list(pool.map(lambda n: stores[n % 2].hit(key, 10, 60), range(40)))
    assert waits.count(None) == 10
    assert all(0 < wait <= 60 for wait in waits if wait is not None)
    assert stores[0].hit(_key(request, "someone else"), 10, 60) is None


def test_places_are_leased_once_given_back_and_lost_by_a_server_that_stops_renewing(
    stores: list[Any], request: pytest.FixtureRequest
) -> None:
    key = _key(request, "slots")
    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(lambda n: stores[n % 2].lease(key, 3, 60), range(12)))
    held = [t for t in tokens if t is not None]
    assert len(held) == 3
    assert stores[1].lease(key, 3, 60) is None
    stores[0].release(key, held[0])  # given back by the other server than took it: any may
    assert stores[1].lease(key, 3, 60) is not None
    short = _key(request, "short")
    lost = stores[0].lease(short, 1, 0.3)  # a server that died holding it
    assert lost is not None and stores[1].lease(short, 1, 0.3) is None
    deadline = time.monotonic() + 10
    while (taken := stores[1].lease(short, 1, 60)) is None:  # until its lease runs out
        assert time.monotonic() < deadline, "an expired lease was never given back"
        time.sleep(0.02)  # polling for a state, not timing anything
    assert taken != lost and not stores[0].renew(short, lost, 60)
    assert stores[1].renew(short, taken, 60)


def test_values_expire_and_are_seen_by_every_server(
    stores: list[Any], request: pytest.FixtureRequest
) -> None:
    key = _key(request, "value")
    stores[0].put(key, b"\x00turns\xff", 60)
    assert stores[1].get(key) == b"\x00turns\xff"
    stores[1].delete(key)
    assert stores[0].get(key) is None
    stores[0].put(key, b"soon gone", 0.3)
    deadline = time.monotonic() + 10
    while stores[1].get(key) is not None:
        assert time.monotonic() < deadline, "a value outlived its time"
        time.sleep(0.02)  # polling for a state, not timing anything
    stores[1].sweep()
    stores[0].check()


def test_live_turns_are_shared_sealed_and_bound_to_their_conversation(redis_url: str) -> None:
    import redis

    from chatbot.shared_state.redis import RedisStore
    from chatbot.store.live import SharedLiveConversations

    store = RedisStore(redis_url, prefix="live-test:")
    one, other = (SharedLiveConversations(store, bytes(32)) for _ in "ab")
    one.add("c1", "Berapa harga skrin iPhone 14?", "RM480.")
    other.add("c1", "Dan baterinya?", "RM150.")
    assert one.turns("c1") == [
        ("Berapa harga skrin iPhone 14?", "RM480."),
        ("Dan baterinya?", "RM150."),
    ]
    raw = redis.Redis.from_url(redis_url)
    sealed = raw.get("live-test:live:c1")
    assert sealed and b"iPhone" not in sealed and b"RM480" not in sealed  # never readable there
    raw.set("live-test:live:c2", sealed)  # one conversation's turns passed off as another's
    assert one.turns("c2") is None
    assert SharedLiveConversations(store, bytes([1]) * 32).turns("c1") is None  # another key
    one.drop("c1")
    assert other.turns("c1") is None
    raw.close()


# -- two servers ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_servers(
    database: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    run_cli,  # type: ignore[no-untyped-def]
    cli_env: dict[str, str],
) -> Iterator[tuple[Server, Server, OllamaStub]]:
    """Two servers and a worker as a deployment runs them: one data directory (its secrets)
    mounted by all, the application database, knowledge catalog and job queue in PostgreSQL,
    vectors on a Chroma server, shared state in Redis, the model on Ollama (the stub)."""
    data = tmp_path_factory.mktemp("two-servers")
    graph = GraphStub(WA_NUMBER_ID, WA_TOKEN)
    with chroma_server(tmp_path_factory.mktemp("chroma")) as chroma, OllamaStub() as ollama:
        env = {
            "CHATBOT_WHATSAPP__GRAPH_URL": graph.url,
            "CHATBOT_WHATSAPP__CHECK_S": "0.2",
            "CHATBOT_DATABASE__URL": database,
            "CHATBOT_VECTOR_STORE__CHROMA_URL": chroma,
            "CHATBOT_SHARED_STATE__REDIS_URL": redis_url,
            "CHATBOT_MODEL__BACKEND": "ollama",
            "CHATBOT_MODEL__OLLAMA_HOST": ollama.url,
            "CHATBOT_SERVER__TRUSTED_PROXIES": '["127.0.0.1/32"]',
            "CHATBOT_SERVER__CONCURRENT_ANSWERS": "1",
            "CHATBOT_SERVER__WAITING_ANSWERS": "0",
        }
        made = run_cli(
            "bots", "create", "kedai", "limits.visitor_messages_per_minute=4",
            "limits.max_turns=3", data_dir=data, env=env,
        )  # fmt: skip
        assert made.code == 0, made.err
        ingested = run_cli(
            "ingest", "--bot", "kedai", str(DEMO / "documents"), data_dir=data, env=env
        )
        assert ingested.code == 0, ingested.err
        # Each server logs to its own file in the shared folder.
        first = Server(data, env, cli_env, log_name="first.out")
        second = Server(data, env, cli_env, log_name="second.out")
        worker = Worker({"data": data, "env": env}, cli_env, "worker")
        first.env, first.data = env, data  # for a test to act as the first server's console
        first.graph = graph  # type: ignore[attr-defined]  # Meta's API, for the WhatsApp test
        try:
            yield first, second, ollama
        finally:
            worker.stop()
            first.stop()
            second.stop()
            graph.close()


def _console_of(server: Server) -> Any:
    """The services a console beside `server` works with: its data directory, database,
    vectors and shared state (what staff do in the console, done in the test's process)."""
    from chatbot.services import Services
    from chatbot.settings import Settings

    env = server.env  # type: ignore[attr-defined]
    return Services(
        Settings(
            data_dir=server.data,  # type: ignore[attr-defined]
            database={"url": env["CHATBOT_DATABASE__URL"]},
            vector_store={"chroma_url": env["CHATBOT_VECTOR_STORE__CHROMA_URL"]},
            shared_state={"redis_url": env["CHATBOT_SHARED_STATE__REDIS_URL"]},
        )
    )


def test_a_document_uploaded_through_one_server_is_found_through_the_other(
    two_servers: Any, tmp_path: Path
) -> None:
    """Staff upload on the first server (as its console does: queued for the worker); the
    second server's customers get answers from it."""
    from chatbot.actions.knowledge import queue_upload

    first, second, _ = two_servers
    console = _console_of(first)
    notice = tmp_path / "cuti-raya.md"
    notice.write_text(
        "# Cuti Hari Raya\n\nThe shop is closed from 30 March to 2 April for Hari Raya.\n",
        encoding="utf-8",
    )
    job_id = queue_upload(console, "kedai", [notice], "aisyah")
    _until(
        lambda: console.ingest_jobs.get(job_id).state == "done",
        "the worker never ingested the upload",
        limit_s=120,
    )
    console.close()
    _, events = chat(second, "Are you open during Hari Raya?", bot="kedai", visitor="192.0.2.9")
    assert "cuti-raya.md" in sources_of(events)


def test_a_conversation_continues_on_either_server(two_servers: Any) -> None:
    """Not kept (so nothing of it is in the database): only the live turns, which both servers
    share, let the second server know the conversation's length; its limit holds across both."""
    first, second, _ = two_servers
    conversation = start_conversation(first, bot="kedai", keep=False)
    for server in (first, second, first):
        answered, _ = chat(server, "What are your opening hours?", bot="kedai",
                           visitor="203.0.113.1", conversation_id=conversation)  # fmt: skip
        assert answered.status_code == 200
    full, _ = chat(second, "And on Sunday?", bot="kedai", visitor="203.0.113.1",
                   conversation_id=conversation)  # fmt: skip
    assert full.status_code == 409 and full.json()["error"] == "conversation_full"


def test_a_visitors_limit_holds_across_both_servers(two_servers: Any) -> None:
    first, second, _ = two_servers
    statuses = [
        chat(server, "Where is the shop?", bot="kedai", visitor="198.51.100.7")[0].status_code
        for server in (first, second, first, second, first)
    ]
    assert statuses == [200, 200, 200, 200, 429]  # 4 a minute in all, not 4 on each
    assert (
        chat(second, "Where is the shop?", bot="kedai", visitor="198.51.100.8")[0].status_code
        == 200
    )


def test_a_bots_answer_slots_hold_across_both_servers(two_servers: Any) -> None:
    """One answer at a time for the bot, no waiting: while the first server's answer is being
    generated, the second turns the next visitor away; once it ends, the second answers."""
    first, second, ollama = two_servers
    ollama.state.flowing.clear()  # the model holds its answer back
    started = threading.Event()
    outcome: dict[str, Any] = {}

    def ask_first() -> None:
        conversation = start_conversation(first, bot="kedai")
        with httpx.stream(
            "POST",
            f"{first.url}/api/bots/kedai/chat",
            json={"message": "How much is a charger?", "conversation_id": conversation},
            headers={"X-Forwarded-For": "192.0.2.1"},
            timeout=120,
        ) as response:
            outcome["status"] = response.status_code
            started.set()  # the answer has its place: it is streaming
            outcome["body"] = response.read()

    asking = threading.Thread(target=ask_first)
    asking.start()
    try:
        assert started.wait(60) and outcome["status"] == 200
        busy, _ = chat(second, "Where is the shop?", bot="kedai", visitor="192.0.2.2")
        assert busy.status_code == 503 and busy.json()["error"] == "bot_busy"
    finally:
        ollama.state.flowing.set()
        asking.join(120)
    assert b"event: done" in outcome["body"]
    answered, _ = chat(second, "Where is the shop?", bot="kedai", visitor="192.0.2.2")
    assert answered.status_code == 200


def test_a_redis_that_is_down_is_a_clear_503_and_readyz_names_it(
    tmp_path: Path,
    run_cli,  # type: ignore[no-untyped-def]
    cli_env: dict[str, str],
) -> None:
    """Nothing is let past a limit that cannot be counted: the visitor is told to try later,
    the operator's probe says what is down."""
    env = {
        "CHATBOT_SHARED_STATE__REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "CHATBOT_ANSWERING__MODE": "extract",
    }
    assert run_cli("ingest", str(DEMO / "documents"), data_dir=tmp_path, env=env).code == 0
    server = Server(tmp_path, env, cli_env)
    try:
        profile = httpx.get(f"{server.url}/api/bots/default/profile", timeout=30).json()
        refused = httpx.post(  # a conversation starts only within its limit
            f"{server.url}/api/bots/default/consent",
            json={"notice_version": profile["privacy"]["version"], "keep": True},
            timeout=30,
        )
        assert refused.status_code == 503 and refused.json()["error"] == "storage_failed"
        assert refused.headers["retry-after"] == "60"
        ready = httpx.get(f"{server.url}/readyz", timeout=30)
        assert ready.status_code == 503
        assert "Redis at 127.0.0.1" in ready.json()["problems"]["shared_state"]
    finally:
        server.stop()


def test_a_website_due_is_read_by_one_server_not_by_each(redis_url: str, tmp_path: Path) -> None:
    """Every server runs the website schedule; when a site is due, both look at once and one
    reads it: the site is asked for its pages once, not once per server. (Servers with no job
    queue, sharing Redis; with one, a worker reads it: tests/test_jobs.py.)"""
    from chatbot.actions.websites import WebsiteSchedule, read_website
    from chatbot.services import Services
    from chatbot.settings import Settings
    from tests.website import Website

    def server() -> Services:
        return Services(
            Settings(
                data_dir=tmp_path,
                shared_state={"redis_url": redis_url},
                crawl={"allow_private_addresses": True, "timeout_s": 3},
                answering={"mode": "extract"},
            )
        )

    one, other = server(), server()
    with Website() as site:
        one.bots.create("aircon-site")
        read_website(one, "aircon-site", site.url, "aisyah")
        before = len(site.requested("/about"))
        later = time.time() + 25 * 3600
        with ThreadPoolExecutor(2) as pool:
            runs = list(
                pool.map(lambda s: WebsiteSchedule(s, 600).run_once(now=later), (one, other))
            )
        assert sorted(len(read) for read in runs) == [0, 1]
        assert len(site.requested("/about")) == before + 1
    one.close()
    other.close()


def test_a_person_helps_a_customer_whichever_server_each_of_them_reaches(two_servers: Any) -> None:
    """#30 across servers: staff present on one console are seen by every server; a staff reply
    reaches the customer's page on the other server; a bot answer one server was giving when
    staff took the conversation over never reaches the customer."""
    from chatbot.actions.inbox import hand_back, reply, take_over
    from chatbot.store.personal_data import ConversationRef, conversation_key
    from tests.test_inbox import Listener

    first, second, ollama = two_servers
    console = _console_of(first)
    try:
        console.desk.presence.seen("kedai")  # the Inbox tab is open on the staff's screen
        visitor = {"X-Forwarded-For": "203.0.113.60"}
        token = start_conversation(first, bot="kedai", headers=visitor)
        ref = ConversationRef("kedai", conversation_key(token))
        _, events = chat(first, "I want to talk to a person", bot="kedai",
                         conversation_id=token, headers=visitor)  # fmt: skip
        done = events[-1][1]
        assert done["state"] == "waiting" and "join this chat" in done["answer"]
        with Listener(second, token, bot="kedai") as page:
            reply(console, "mei", ref, "Hello, Mei here.")
            assert page.wait_for("message", author="staff")["text"] == "Hello, Mei here."
        _, events = chat(second, "Can you fix it today?", bot="kedai", conversation_id=token,
                         headers=visitor)  # fmt: skip
        assert events[-1][1]["kind"] == "relayed"

        hand_back(console, "mei", ref)
        ollama.state.flowing.clear()
        asked = len(ollama.state.chats)
        answering: dict[str, Any] = {}

        def ask() -> None:
            _, said = chat(first, "What are your opening hours?", bot="kedai",
                           conversation_id=token, headers=visitor)  # fmt: skip
            answering.update(said[-1][1])

        customer = threading.Thread(target=ask)
        customer.start()
        try:
            with ollama.state.arrived:
                assert ollama.state.arrived.wait_for(lambda: len(ollama.state.chats) > asked, 60)
            take_over(console, "mei", ref)
        finally:
            ollama.state.flowing.set()
        customer.join(60)
        assert answering["kind"] == "withheld" and answering["answer"] == ""
    finally:
        console.close()


def test_meta_posting_to_both_servers_gets_each_whatsapp_message_answered_once(
    two_servers: Any,
) -> None:
    """#31 behind the proxy: Meta's webhook (and its retries) may reach either server; each
    customer's message is handled by one, once, and answered in order."""
    from chatbot.actions.whatsapp import connect
    from chatbot.store.accounts import Role

    first, second, _ = two_servers
    graph: GraphStub = first.graph  # type: ignore[attr-defined]
    console = _console_of(first)
    try:
        connect(console, "owner", Role.OWNER, "kedai", phone_number_id=WA_NUMBER_ID,
                access_token=WA_TOKEN, app_secret=WA_SECRET)  # fmt: skip
        numbers = [f"601700000{i:02d}" for i in range(6)]

        def both(payload: dict[str, Any]) -> None:
            body, headers = signed_post(WA_SECRET, payload)

            def post(server: Server) -> int:
                url = f"{server.url}/webhooks/whatsapp/kedai"
                return httpx.post(url, content=body, headers=headers).status_code

            with ThreadPoolExecutor(2) as pool:
                assert list(pool.map(post, (first, second))) == [200, 200]

        firsts = [message(n, "What are your opening hours?") for n in numbers]
        for sent in firsts:
            both(webhook(WA_NUMBER_ID, [sent]))
        notices = graph.wait_for(
            lambda sent: len({m["to"] for m in sent if m["type"] == "interactive"}) == 6 and sent,
            "a notice to each customer",
        )
        for number in numbers:
            notice = next(m for m in notices if m["to"] == number and m["type"] == "interactive")
            button = notice["interactive"]["action"]["buttons"][0]["reply"]
            both(webhook(WA_NUMBER_ID, [message(number, reply=(button["id"], button["title"]))]))
        store = console.whatsapp.store

        def settled() -> bool:
            done = not store.due(time.time() + 3600)
            return done and all(len(graph.to(n)) >= 3 for n in numbers)

        _until(settled, "every message handled and every reply sent")
        for number in numbers:
            kinds = [m["type"] for m in graph.to(number)]
            assert kinds == ["text", "interactive", "text"], kinds  # notice, consent, answer
    finally:
        console.close()
