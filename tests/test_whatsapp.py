"""The bot on WhatsApp (#31), through a served `chatbot serve` that Meta's webhooks reach, and a
loopback stand-in for Meta's Graph API (tests/graph_stub.py) that the replies go to: consent
first, then answers in the customer's language from the bot's documents; Meta's retries
answered once; a forged webhook refused; a person reached through the inbox the web chat
uses, and their reply sent on WhatsApp, as a template past 24 hours; a voice note answered
politely; an expired token seen by staff, and nothing lost until a new one is set."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import DEMO
from tests.graph_stub import GraphStub, message, signed_post, texts, webhook
from tests.servers import Server
from tests.test_jobs import _until

BOT = "shop"
NUMBER_ID = "109876543210987"
TOKEN = "EAAG-test-token-0123456789"
APP_SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
VERIFY = "verify-me-please-123"
_numbers = iter(range(100, 999))
ENV: dict[str, str] = {}


def new_number() -> str:
    return f"6012345{next(_numbers):04d}"


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphStub]:
    stub = GraphStub(NUMBER_ID, TOKEN)
    yield stub
    stub.close()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, run_cli, cli_env, graph: GraphStub):  # type: ignore[no-untyped-def]
    """The demo shop's bot with its FAQ and price list, its WhatsApp number set by the owner
    on the command line, served with Meta's API at the stub."""
    data = tmp_path_factory.mktemp("whatsapp")
    made = run_cli(
        "bots", "create", BOT, "business=Gadget Care", "phone=04-261 8833", data_dir=data
    )
    assert made.code == 0, made.err
    docs = [str(DEMO / "documents" / name) for name in ("faq.csv", "price-list.pdf")]
    assert run_cli("ingest", "--bot", BOT, *docs, data_dir=data).code == 0
    ENV["CHATBOT_WHATSAPP__GRAPH_URL"] = graph.url  # the command line's `check` calls it too
    connected = run_cli(
        "whatsapp", "connect", "--bot", BOT, "--phone-number-id", NUMBER_ID,
        "--access-token", TOKEN, "--app-secret", APP_SECRET, "--verify-token", VERIFY,
        "--template", "reply_to_customer", "--template-language", "en",
        data_dir=data, env=ENV,
    )  # fmt: skip
    assert connected.code == 0, connected.err
    assert f"/webhooks/whatsapp/{BOT}" in connected.out and VERIFY in connected.out
    env = {**ENV, "CHATBOT_WHATSAPP__CHECK_S": "0.2", "CHATBOT_WHATSAPP__RETRY_BASE_S": "0.2"}
    server = Server(data, env, cli_env)
    yield server, data
    server.stop()


@pytest.fixture(scope="module")
def console(shop) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """What staff do in the console, done in the test's process on the server's data."""
    from chatbot.services import Services
    from chatbot.settings import load_settings

    _, data = shop
    services = Services(load_settings(None, data))
    yield services
    services.close()


def signed_post_raw(secret: str, body: bytes) -> str:
    import hashlib
    import hmac

    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(server: Server, payload: dict[str, Any], secret: str = APP_SECRET) -> httpx.Response:
    body, headers = signed_post(secret, payload)
    return httpx.post(f"{server.url}/webhooks/whatsapp/{BOT}", content=body, headers=headers)


def send(server: Server, *messages: dict[str, Any]) -> None:
    response = post(server, webhook(NUMBER_ID, list(messages)))
    assert response.status_code == 200, response.text


def agree(
    server: Server, graph: GraphStub, number: str, keep: bool = True, at: float | None = None
) -> None:
    """The customer presses a button of the notice they were sent (at `at`: now)."""
    notice = graph.wait_for(
        lambda sent: [m for m in sent if m["to"] == number and m["type"] == "interactive"],
        "the privacy notice with its buttons",
    )[-1]
    buttons = notice["interactive"]["action"]["buttons"]
    chosen = buttons[0 if keep else 1]["reply"]
    send(server, message(number, reply=(chosen["id"], chosen["title"]), at=at))


def customer(
    server: Server, graph: GraphStub, first: str, keep: bool = True, at: float | None = None
) -> tuple[str, str]:
    """A new customer writes `first` (at `at`), agrees to the notice, and is answered: their
    number and the answer."""
    number = new_number()
    send(server, message(number, first, at=at))
    agree(server, graph, number, keep, at)
    return number, replies(graph, number, 2)[1]


def replies(graph: GraphStub, number: str, count: int) -> list[str]:
    """What was sent to `number` after the privacy notice (the question with its buttons
    first), waiting for `count` of them."""
    graph.wait_for(lambda sent: len(texts(graph.to(number))) > count, f"{count} replies")
    return texts(graph.to(number))[1:]


def test_a_first_message_gets_the_notice_in_its_language_and_its_answer_after_consent(
    shop, graph: GraphStub, console
) -> None:  # type: ignore[no-untyped-def]
    server, data = shop
    number = new_number()
    send(server, message(number, "Berapa harga tukar bateri iPhone?"))
    notice, asked = graph.wait_for(
        lambda sent: [m for m in sent if m["to"] == number][1:] and graph.to(number),
        "the privacy notice",
    )[:2]
    # The notice in Malay, saying what WhatsApp carries, then the choices as reply buttons; no
    # answer yet.
    body = notice["text"]["body"]
    assert "Gadget Care" in body and "disimpan" in body and "melalui WhatsApp (Meta)" in body
    assert asked["type"] == "interactive" and "PADAM" in asked["interactive"]["body"]["text"]
    titles = [b["reply"]["title"] for b in asked["interactive"]["action"]["buttons"]]
    assert titles == ["Setuju & simpan", "Setuju, jgn simpan"]
    assert all(len(t) <= 20 for t in titles)  # WhatsApp's limit for a button
    # Nothing of the question is kept readable before they agree.
    stored = b"".join(p.read_bytes() for p in data.glob("chatbot.db*"))
    assert stored and b"Berapa harga" not in stored

    agree(server, graph, number)
    answer = replies(graph, number, 2)[1]
    assert "RM150" in answer
    # Where it is from, in the customer's language, said once (not again as a sources list).
    assert answer.startswith("Menurut Gadget Care Penang price list")
    assert answer.count("price list") == 1
    # Marked read, with the typing indicator, while the answer was made.
    reads = [r for r in graph.requests if (r["body"] or {}).get("status") == "read"]
    assert reads and reads[-1]["body"]["typing_indicator"] == {"type": "text"}
    # Kept, as they chose, and found by their number (privacy export --contact).
    found = console.personal_data.find(contact=f"+{number}")
    assert len(found) == 1
    assert console.conversations.turns(BOT, found[0].conversation_id)[0][0].startswith("Berapa")


def test_meta_sending_a_message_again_gets_one_answer_and_receipts_are_recorded(
    shop, graph: GraphStub, console
) -> None:  # type: ignore[no-untyped-def]
    server, _ = shop
    number = new_number()
    send(server, message(number, "Hi"))
    agree(server, graph, number)
    replies(graph, number, 2)  # the notice, then the greeting's reply
    question = message(number, "What are your opening hours?")
    for _ in range(3):  # Meta retries until answered 200, and may deliver twice anyway
        send(server, question)
    said = replies(graph, number, 3)
    assert "10am to 8pm" in said[2]
    # A later message's answer coming proves the retries were handled, not waiting.
    send(server, message(number, "Where is the shop?"))
    said = replies(graph, number, 4)
    assert "Lebuh Chulia" in said[3]
    assert sum("10am to 8pm" in s for s in said) == 1
    # Meta's receipts for what was sent: delivered, then read (a late "delivered" undoes none).
    wamid = graph.to(number)[-1]["id"]
    for status in ("delivered", "read", "delivered"):
        receipt = {"id": wamid, "status": status, "timestamp": str(int(time.time())),
                   "recipient_id": number}  # fmt: skip
        assert post(server, webhook(NUMBER_ID, statuses=[receipt])).status_code == 200
    states = _until(
        lambda: [m.state for m in console.whatsapp.store.outgoing(BOT) if m.state == "read"],
        "the receipt recorded",
    )
    assert states


def test_a_webhook_not_signed_with_the_app_secret_is_refused_and_nothing_is_kept(
    shop, graph: GraphStub, console
) -> None:  # type: ignore[no-untyped-def]
    server, _ = shop
    number = new_number()
    forged = post(server, webhook(NUMBER_ID, [message(number, "hello")]), secret="guessed")
    assert forged.status_code == 403
    assert "signature" in forged.json()["error"]
    unsigned = httpx.post(
        f"{server.url}/webhooks/whatsapp/{BOT}",
        json=webhook(NUMBER_ID, [message(number, "hello")]),
    )
    assert unsigned.status_code == 403
    # Signed, but not what Meta sends: refused as unreadable, or passed over; never a crash.
    url = f"{server.url}/webhooks/whatsapp/{BOT}"
    _, headers = signed_post(APP_SECRET, {})
    not_json = httpx.post(url, content=b"{not json", headers={
        **headers, "X-Hub-Signature-256": signed_post_raw(APP_SECRET, b"{not json")})  # fmt: skip
    assert not_json.status_code == 400
    odd = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "metadata": {"phone_number_id": NUMBER_ID},
                            "messages": [
                                {"from": "+60 12; drop", "id": 5, "type": "text"},
                                "x",
                                None,
                            ],
                        },
                    }
                ]
            },
            7,
        ],
    }
    assert post(server, odd).status_code == 200  # fmt: skip
    other_number = webhook("999999999", [message(number, "for another bot's number")])
    assert post(server, other_number).status_code == 200
    huge = httpx.post(url, content=b"x" * 1_100_000, headers=headers)
    assert huge.status_code == 413
    key = console.whatsapp.store.number_key(number)
    assert console.whatsapp.store.customer(BOT, key) is None
    # Meta's check of the callback URL: the challenge back only for the right verify token.
    good = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    assert httpx.get(url, params=good).text == "1158201444"
    bad = httpx.get(url, params={**good, "hub.verify_token": "wrong"})
    assert bad.status_code == 403 and "1158201444" not in bad.text
    assert graph.to(number) == []


def test_a_follow_up_keeps_the_subject(shop, graph: GraphStub) -> None:  # type: ignore[no-untyped-def]
    server, _ = shop
    question = "How much does an iPhone battery replacement cost?"
    number, answer = customer(server, graph, question, keep=False)
    assert "RM150" in answer
    send(server, message(number, "and for Android?"))
    follow = replies(graph, number, 3)[2]
    assert "Android battery: RM110" in follow


def test_a_request_for_a_person_reaches_the_inbox_and_the_staff_reply_arrives_on_whatsapp(
    shop, graph: GraphStub, console
) -> None:  # type: ignore[no-untyped-def]
    from chatbot.actions.inbox import inbox, reply
    from chatbot.store.inbox import State
    from chatbot.store.personal_data import ConversationRef

    server, _ = shop
    number, told = customer(server, graph, "can I talk to a real person?")
    assert "team" in told.lower()
    conversation = console.whatsapp.store.customer(
        BOT, console.whatsapp.store.number_key(number)
    ).conversation_id
    waiting = [s for s in inbox(console, BOT) if s.conversation_id == conversation]
    assert waiting and waiting[0].state is State.WAITING
    reply(
        console, "owner", ConversationRef(BOT, conversation), "Hi, this is Aisyah. How can I help?"
    )
    assert "How can I help?" in replies(graph, number, 3)[2]
    # While a person has the conversation, the bot is silent: the customer's words go to them.
    send(server, message(number, "my phone screen cracked"))
    _until(
        lambda: any(
            m.author == "customer" and "screen cracked" in m.text
            for m in console.desk.store.messages(BOT, conversation)
        ),
        "the customer's message kept for the person",
    )
    assert len(texts(graph.to(number))) == 4  # the notice, its question, two replies


def test_past_24_hours_a_staff_reply_goes_as_the_template_or_is_refused_with_the_reason(
    shop, graph: GraphStub, console, run_cli
) -> None:  # type: ignore[no-untyped-def]
    from chatbot.actions.inbox import reply, take_over
    from chatbot.store.personal_data import ConversationRef
    from knowledge.errors import KnowledgeError

    server, data = shop
    day_ago = time.time() - 25 * 3600  # and nothing from them since
    number, _ = customer(server, graph, "Do you repair cracked phone screens?", at=day_ago)
    store = console.whatsapp.store
    conversation = store.customer(BOT, store.number_key(number)).conversation_id
    ref = ConversationRef(BOT, conversation)
    take_over(console, "owner", ref)
    reply(console, "owner", ref, "Sorry for the wait: your screen is ready,\ncome by today.")
    template = graph.wait_for(
        lambda sent: [m for m in sent if m["to"] == number and m["type"] == "template"],
        "the template",
    )[0]["template"]
    assert template["name"] == "reply_to_customer"
    assert template["language"] == {"code": "en"}
    assert template["components"][0]["parameters"][0]["text"] == (
        "Sorry for the wait: your screen is ready, come by today."
    )
    # Without a template the reply is refused, saying why, and nothing is stored or sent.
    reconnected = run_cli(
        "whatsapp", "connect", "--bot", BOT, "--phone-number-id", NUMBER_ID,
        "--access-token", TOKEN, "--app-secret", APP_SECRET, "--verify-token", VERIFY,
        data_dir=data, env=ENV,
    )  # fmt: skip
    assert reconnected.code == 0, reconnected.err
    before = len(console.desk.store.messages(BOT, conversation))
    with pytest.raises(KnowledgeError, match="24 hours"):
        reply(console, "owner", ref, "Are you still there?")
    assert len(console.desk.store.messages(BOT, conversation)) == before
    restored = run_cli(
        "whatsapp", "connect", "--bot", BOT, "--phone-number-id", NUMBER_ID,
        "--access-token", TOKEN, "--app-secret", APP_SECRET, "--verify-token", VERIFY,
        "--template", "reply_to_customer", data_dir=data, env=ENV,
    )  # fmt: skip
    assert restored.code == 0


def test_a_voice_note_gets_a_polite_reply_in_the_customers_language_and_staff_see_it(
    shop, graph: GraphStub, console
) -> None:  # type: ignore[no-untyped-def]
    server, _ = shop
    number, _ = customer(server, graph, "Kedai buka hari Ahad?")
    send(server, message(number, kind="audio"))
    polite = replies(graph, number, 3)[2]
    assert "mesej teks" in polite  # Malay, as they wrote
    store = console.whatsapp.store
    conversation = store.customer(BOT, store.number_key(number)).conversation_id
    noted = [m.text for m in console.desk.store.messages(BOT, conversation)]
    assert "media:audio" in noted
    # A voice note as the very first message waits for consent like words do, then gets the
    # same reply (not a greeting), and staff see it.
    first = new_number()
    send(server, message(first, kind="audio"))
    agree(server, graph, first)
    assert "type your question" in replies(graph, first, 2)[1]
    conversation = store.customer(BOT, store.number_key(first)).conversation_id
    assert "media:audio" in [m.text for m in console.desk.store.messages(BOT, conversation)]


def test_an_expired_token_is_shown_to_staff_and_nothing_is_lost_until_a_new_one_is_set(
    shop, graph: GraphStub, console, run_cli
) -> None:  # type: ignore[no-untyped-def]
    server, data = shop
    number, _ = customer(server, graph, "Where is the shop?")
    graph.token = "EAAG-the-renewed-token-987654"  # Meta expired the old one mid-day
    send(server, message(number, "What are your opening hours?"))
    ready = _until(
        lambda: (r := httpx.get(f"{server.url}/readyz").json()).get("whatsapp") and r,
        "/readyz saying what Meta refused",
    )
    assert "access token" in ready["whatsapp"][BOT]
    assert ready["ready"] is True  # the web chat still answers: a token is no restart's fix
    shown = run_cli("whatsapp", "show", "--bot", BOT, data_dir=data, env=ENV)
    assert "access token" in shown.out and TOKEN not in shown.out and APP_SECRET not in shown.out
    checked = run_cli("whatsapp", "check", "--bot", BOT, data_dir=data, env=ENV)
    assert checked.code == 1 and "expired" in checked.out
    assert len(texts(graph.to(number))) == 3  # the notice, its question, the answer
    renewed = run_cli(
        "whatsapp", "connect", "--bot", BOT, "--phone-number-id", NUMBER_ID,
        "--access-token", graph.token, "--app-secret", APP_SECRET, "--verify-token", VERIFY,
        "--template", "reply_to_customer", data_dir=data, env=ENV,
    )  # fmt: skip
    assert renewed.code == 0, renewed.err
    assert "10am to 8pm" in replies(graph, number, 3)[2]
    assert not httpx.get(f"{server.url}/readyz").json()["whatsapp"]


def test_a_rate_limited_or_failed_send_is_retried_and_arrives_once(shop, graph: GraphStub) -> None:  # type: ignore[no-untyped-def]
    server, _ = shop
    number, _ = customer(server, graph, "Where is the shop?")
    with graph.changed:
        graph.failing = ["rate", "down"]
    send(server, message(number, "What are your opening hours?"))
    said = replies(graph, number, 3)
    assert "10am to 8pm" in said[2]
    assert sum("10am to 8pm" in s for s in texts(graph.to(number))) == 1


def test_delete_erases_the_customers_conversation_and_number(
    shop, graph: GraphStub, console
) -> None:  # type: ignore[no-untyped-def]
    server, _ = shop
    number, _ = customer(server, graph, "Where is the shop?")
    assert console.personal_data.find(contact=f"+{number}")
    send(server, message(number, "PADAM"))
    assert "dipadam" in replies(graph, number, 3)[2]
    assert console.personal_data.find(contact=f"+{number}") == []
    store = console.whatsapp.store
    assert store.customer(BOT, store.number_key(number)) is None


def test_a_customer_silent_for_the_retention_period_is_forgotten_number_and_all(
    shop, graph: GraphStub, console
) -> None:  # type: ignore[no-untyped-def]
    """Last in this file: the purge it runs forgets every customer of the bot."""
    server, _ = shop
    number, _ = customer(server, graph, "Where is the shop?")
    store = console.whatsapp.store
    assert console.personal_data.find(contact=f"+{number}")
    console.personal_data.purge({}, 30, now=time.time() + 29 * 86400)
    assert store.customer(BOT, store.number_key(number)) is not None  # not yet
    console.personal_data.purge({}, 30, now=time.time() + 31 * 86400)
    assert store.customer(BOT, store.number_key(number)) is None
    assert console.personal_data.find(contact=f"+{number}") == []
    # Writing again starts afresh: the notice first.
    send(server, message(number, "Where is the shop?"))
    again = graph.wait_for(
        lambda sent: len(graph.to(number)) >= 5 and graph.to(number)[3:], "the notice again"
    )
    assert again[0]["type"] == "text" and again[1]["type"] == "interactive"


def test_a_customer_who_says_thanks_rates_the_conversation_with_one_button(
    shop, graph: GraphStub, console
) -> None:  # type: ignore[no-untyped-def]
    from chatbot.actions.outcomes import behind
    from chatbot.inbox.outcomes import Outcome

    server, _ = shop
    number, answer = customer(server, graph, "Berapa harga tukar bateri iPhone?")
    assert "RM150" in answer
    send(server, message(number, "ok terima kasih"))
    asked = graph.wait_for(
        lambda sent: [
            m
            for m in sent
            if m["to"] == number
            and m["type"] == "interactive"
            and m["interactive"]["action"]["buttons"][0]["reply"]["id"].startswith("csat:")
        ],
        "the rating's buttons",
    )[-1]
    # In the conversation's language, three buttons (WhatsApp's most), each short enough.
    assert asked["interactive"]["body"]["text"].startswith("Bagaimana layanan kami?")
    buttons = [b["reply"] for b in asked["interactive"]["action"]["buttons"]]
    assert [b["title"] for b in buttons] == ["😀 Bagus", "😐 Biasa", "🙁 Teruk"]
    send(server, message(number, reply=(buttons[0]["id"], buttons[0]["title"])))
    graph.wait_for(
        lambda sent: [m for m in texts(graph.to(number)) if "Terima kasih atas maklum" in m],
        "thanks for the rating",
    )
    found = console.personal_data.find(contact=f"+{number}")[0]
    rated = {b.conversation_id: b for b in behind(console, BOT)}[found.conversation_id]
    assert rated.csat == 5 and rated.outcome is Outcome.CONFIRMED and rated.channel == "whatsapp"
