"""Handoff to a person (#30), over the chat API as a page uses it and with staff's commands
(`chatbot inbox ...`, which the console's Inbox tab shares): a customer who asks for a person,
or whom the bot could not help twice running, waits for one; staff see them first, reply, and
the reply reaches the customer's open page; while a person has the conversation the bot is
silent, even where its answer was already on its way."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ARTIFACTS, DEMO
from tests.ollama_stub import OllamaStub
from tests.servers import Event, Server, chat, free_port, start_conversation
from tests.test_jobs import _until

BOT = "shop"
CONTACT = "04-261 8833"


@pytest.fixture(scope="module")
def stub() -> Iterator[OllamaStub]:
    with OllamaStub() as server:
        yield server


class Mailbox:
    """A real SMTP server on loopback (aiosmtpd), keeping what it is sent."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.received: list[Any] = []
        self.arrived = threading.Condition()
        mailbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                from email import message_from_bytes
                from email.policy import default

                with mailbox.arrived:
                    mailbox.received.append(message_from_bytes(envelope.content, policy=default))
                    mailbox.arrived.notify_all()
                return "250 OK"

        self.port = free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def wait_for(self, subject: str, timeout: float = 30) -> Any:
        def found() -> Any:
            return next((m for m in self.received if subject in m["Subject"]), None)

        with self.arrived:
            assert self.arrived.wait_for(lambda: found() is not None, timeout), [
                m["Subject"] for m in self.received
            ]
            return found()

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, run_cli, cli_env, stub: OllamaStub, mailbox):  # type: ignore[no-untyped-def]
    """A shop bot with its FAQ, answering through a (stub) Ollama model, so that a test can
    hold an answer back while staff act; its alerts go to a loopback SMTP server, and failed
    deliveries are retried within moments (not the half minute a deployment waits)."""
    data = tmp_path_factory.mktemp("inbox")
    made = run_cli("bots", "create", BOT, "title=Gadget Care", f"phone={CONTACT}", data_dir=data)
    assert made.code == 0, made.err
    faq = str(DEMO / "documents" / "faq.csv")
    assert run_cli("ingest", "--bot", BOT, faq, data_dir=data).code == 0
    env = {
        "CHATBOT_MODEL__BACKEND": "ollama",
        "CHATBOT_MODEL__OLLAMA_HOST": stub.url,
        "CHATBOT_ANSWERING__MODE": "generate",
        "CHATBOT_SERVER__TRUSTED_PROXIES": '["127.0.0.1/32"]',
        "CHATBOT_ALERTS__SMTP_HOST": "127.0.0.1",
        "CHATBOT_ALERTS__SMTP_PORT": str(mailbox.port),
        "CHATBOT_ALERTS__SENDER": "chatbot@gadgetcare.example",
        "CHATBOT_ALERTS__CONSOLE_URL": "https://chat.gadgetcare.example",
        "CHATBOT_ALERTS__RETRY_BASE_S": "0.2",
        "CHATBOT_ALERTS__MAX_ATTEMPTS": "3",
        "CHATBOT_ALERTS__CHECK_S": "0.2",
    }
    server = Server(data, env, cli_env)
    yield server, data
    server.stop()


@pytest.fixture(scope="module")
def console(shop) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The services a console beside the server works with (its data directory): what staff
    do in the Inbox tab, done in the test's process (the command line's start-up spared)."""
    from chatbot.services import Services
    from chatbot.settings import load_settings

    _, data = shop
    services = Services(load_settings(None, data))
    yield services
    services.close()


@pytest.fixture
def staff(run_cli, shop):  # type: ignore[no-untyped-def]
    """`chatbot inbox VERB --bot shop ARGS` as a staff member runs it; stdout (JSON with
    --json), failing the test on an error."""
    _, data = shop

    def run(verb: str, *args: str) -> Any:
        done = run_cli("inbox", verb, "--bot", BOT, *args, data_dir=data)
        assert done.code == 0, done.err
        return json.loads(done.out) if "--json" in args else done.out

    return run


_visitors = iter(range(1, 250))


def begin(server: Server) -> str:
    """A new customer (from an address of their own: the visitor limits are not under test)
    agrees to the privacy notice; their conversation's token."""
    visitor = f"10.0.{next(_visitors)}.1"
    token = start_conversation(server, bot=BOT, headers={"X-Forwarded-For": visitor})
    _address[token] = visitor
    return token


_address: dict[str, str] = {}


def said(server: Server, message: str, conversation: str) -> dict[str, Any]:
    """The customer's message sent; its `done` event."""
    visitor = _address[conversation]
    response, events = chat(server, message, bot=BOT, conversation_id=conversation, visitor=visitor)
    assert response.status_code == 200, response.text
    return dict(events[-1][1])


def key_of(server: Server, token: str) -> str:
    """The conversation's id as staff see it (the customer holds a token to it)."""
    from chatbot.store.personal_data import conversation_key

    return conversation_key(token)


class Listener:
    """A customer's page listening for what staff say (GET .../events), in a thread, until
    closed (the page goes away)."""

    def __init__(
        self, server: Server, token: str, last_id: int | None = None, bot: str = BOT
    ) -> None:
        self.events: list[Event] = []
        self._changed = threading.Condition()
        self._closed = threading.Event()
        url = f"{server.url}/api/bots/{bot}/conversations/{token}/events"
        headers = {"Last-Event-ID": str(last_id)} if last_id is not None else {}
        self._response = httpx.Client(timeout=120).send(
            httpx.Request("GET", url, headers=headers), stream=True
        )
        assert self._response.status_code == 200, self._response.read()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        self._response.close()
        self._thread.join(10)

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _listen(self) -> None:
        block: dict[str, str] = {}
        try:
            for line in self._response.iter_lines():
                if line:
                    name, _, value = line.partition(": ")
                    block[name] = value
                    continue
                if "event" in block:
                    with self._changed:
                        self.events.append((block["event"], json.loads(block["data"])))
                        self._changed.notify_all()
                block = {}
        except httpx.HTTPError:
            if not self._closed.is_set():
                raise

    def wait_for(self, name: str, timeout: float = 10, **fields: Any) -> dict[str, Any]:
        """The first event `name` with these fields, waiting for it to come."""

        def found() -> dict[str, Any] | None:
            for event, data in self.events:
                if event == name and all(data.get(k) == v for k, v in fields.items()):
                    return data
            return None

        with self._changed:
            assert self._changed.wait_for(lambda: found() is not None, timeout), self.events
            return found() or {}


def test_a_customer_who_asks_for_a_person_waits_first_in_the_inbox(shop, staff) -> None:
    server, _ = shop
    earlier = begin(server)
    said(server, "What are your opening hours?", earlier)  # live with the bot
    token = begin(server)
    assert said(server, "hi", token)["state"] == "bot"  # a greeting is no miss

    done = said(server, "can I talk to a real person?", token)

    assert done["state"] == "waiting" and done["kind"] == "smalltalk"
    # Nobody from the shop has the inbox open: the customer is told so, and how to reach them.
    assert "No one from our team is online" in done["answer"] and CONTACT in done["answer"]
    listed = staff("list", "--json")
    assert listed[0]["conversation_id"] == key_of(server, token)
    assert listed[0]["state"] == "waiting" and listed[0]["waiting_s"] is not None
    assert key_of(server, earlier) in [row["conversation_id"] for row in listed[1:]]
    # Asking again while waiting is answered as such, in the customer's language.
    again = said(server, "boleh saya cakap dengan staf?", token)
    assert again["state"] == "waiting"
    assert "Kakitangan kami telah diminta" in again["answer"]
    # Meanwhile the bot answers what it can, and the conversation still waits.
    meanwhile = said(server, "What are your opening hours?", token)
    assert meanwhile["state"] == "waiting" and "Monday" in meanwhile["answer"]


def test_two_questions_the_bot_cannot_answer_running_bring_a_person(shop) -> None:
    server, _ = shop
    token = begin(server)
    first = said(server, "Do you sell durian cakes?", token)
    assert first["answered"] is False and first["state"] == "bot"
    second = said(server, "Is there a car wash nearby?", token)
    assert second["answered"] is False and second["state"] == "waiting"
    assert "Sorry" in second["answer"] and "No one from our team is online" in second["answer"]


def test_a_staff_reply_reaches_the_customers_open_page_and_the_bot_stays_silent(
    shop, staff, run_cli
) -> None:
    server, data = shop
    token = begin(server)
    said(server, "can I talk to a person?", token)
    with Listener(server, token) as page:
        page.wait_for("state", state="waiting")

        staff("reply", key_of(server, token), "Hi, this is Mei from Gadget Care. How can I help?")

        page.wait_for("state", state="staff")
        joined = page.wait_for("message", author="event", text="joined")
        reply = page.wait_for("message", author="staff")
    assert reply["text"] == "Hi, this is Mei from Gadget Care. How can I help?"
    assert joined["name"] == reply["name"] == ""  # the command line speaks for the team
    # The customer's next message is for the person, not the bot.
    relayed = said(server, "My screen is cracked, my number is 012-345 6789", token)
    assert relayed["kind"] == "relayed" and relayed["answer"] == "" and relayed["state"] == "staff"
    shown = staff("show", key_of(server, token), "--json")
    assert shown["state"] == "staff"
    whole = [(e["who"], e["text"]) for e in shown["entries"]]
    assert ("staff", "Hi, this is Mei from Gadget Care. How can I help?") in whole
    assert ("customer", "My screen is cracked, my number is [PHONE]") in whole  # masked as kept

    # A page opened again later misses nothing: the transcript holds what staff said, and a
    # stream resumed from the last message it saw sends only what came after.
    transcript = httpx.get(f"{server.url}/api/bots/{BOT}/conversations/{token}").json()
    assert transcript["state"] == "staff"
    assert [m["text"] for m in transcript["messages"] if m["author"] == "staff"] == [reply["text"]]
    staff("hand-back", key_of(server, token))
    with Listener(server, token, last_id=reply["id"]) as resumed:
        resumed.wait_for("message", author="event", text="handed_back")
        seen = [data for name, data in resumed.events if name == "message"]
    assert all(data["author"] != "staff" for data in seen)
    back = said(server, "What are your opening hours?", token)
    assert back["kind"] != "relayed" and back["answer"] and back["state"] == "bot"
    # What staff and the customer said is the customer's data like the rest: in their export.
    exported = run_cli("privacy", "export", "--conversation", key_of(server, token), data_dir=data)
    messages = json.loads(exported.out)["conversations"][0]["messages"]
    assert [(m["author"], m["text"][:8]) for m in messages] == [
        ("event", "waiting"),
        ("event", "joined"),
        ("staff", "Hi, this"),
        ("customer", "My scree"),
        ("event", "handed_b"),
    ]


def test_a_bot_answer_overtaken_by_a_take_over_never_reaches_the_customer(
    shop, console, stub: OllamaStub
) -> None:
    from chatbot.actions.inbox import read_conversation, take_over
    from chatbot.store.personal_data import ConversationRef

    server, _ = shop
    token = begin(server)
    said(server, "hello", token)
    model = stub.state
    model.flowing.clear()  # the model is slow to answer the next question
    asked = len(model.chats)
    try:
        answering: dict[str, Any] = {}
        customer = threading.Thread(
            target=lambda: answering.update(said(server, "Do you offer a warranty?", token))
        )
        customer.start()
        with model.arrived:
            assert model.arrived.wait_for(lambda: len(model.chats) > asked, 60)
        take_over(console, "mei", ConversationRef(BOT, key_of(server, token)))
    finally:
        model.flowing.set()
    customer.join(60)

    assert answering["kind"] == "withheld" and answering["answer"] == ""
    assert answering["state"] == "staff"
    _, said_then = read_conversation(console, "mei", ConversationRef(BOT, key_of(server, token)))
    assert not any(e.who == "bot" and "warranty" in e.text for e in said_then)


def test_closing_a_conversation_not_kept_forgets_what_was_said(shop, console) -> None:
    from chatbot.actions.inbox import close, inbox, read_conversation, reply
    from chatbot.store.personal_data import ConversationRef

    server, data = shop
    visitor = f"10.0.{next(_visitors)}.1"
    _, events = chat(server, "I want to speak to a human", bot=BOT, keep=False, visitor=visitor)
    token = events[-1][1]["conversation_id"]
    assert events[-1][1]["state"] == "waiting"
    ref = ConversationRef(BOT, key_of(server, token))
    reply(console, "mei", ref, "Hello! What can I do for you?")
    _, entries = read_conversation(console, "mei", ref)
    assert "Hello! What can I do for you?" in [e.text for e in entries]
    close(console, "mei", ref)
    assert ref.conversation_id not in [s.conversation_id for s in inbox(console, BOT)]
    database = b"".join(f.read_bytes() for f in Path(data).glob("chatbot.db*"))
    assert b"Hello! What can I do for you?" not in database


def test_an_event_stream_is_only_for_the_conversations_own_page(shop) -> None:
    server, _ = shop
    unknown = "0" * 32
    refused = httpx.get(f"{server.url}/api/bots/{BOT}/conversations/{unknown}/events")
    assert refused.status_code == 404 and refused.json()["error"] == "gone"
    foreign = httpx.get(
        f"{server.url}/api/bots/{BOT}/conversations/{unknown}/events",
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403


def test_outside_business_hours_a_customer_is_told_when_a_person_will_be_back(
    shop, run_cli
) -> None:
    """A bakery open only on one day, two days from now (in Malaysia): asking for a person
    today, in Malay, gets that day and hour in Malay, and the bakery's contact."""
    server, data = shop
    kl = dt.timezone(dt.timedelta(hours=8))
    opens = dt.datetime.now(kl).date() + dt.timedelta(days=2)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[opens.weekday()]
    malay_day = ("Isnin", "Selasa", "Rabu", "Khamis", "Jumaat", "Sabtu", "Ahad")[opens.weekday()]
    made = run_cli(
        "bots", "create", "bakery", "phone=+60 4-555 0101", f"business_hours.{day}=9am-5pm",
        data_dir=data,
    )  # fmt: skip
    assert made.code == 0, made.err
    visitor = f"10.0.{next(_visitors)}.1"
    token = start_conversation(server, bot="bakery", headers={"X-Forwarded-For": visitor})
    _, events = chat(server, "boleh saya cakap dengan staf?", bot="bakery",
                     conversation_id=token, visitor=visitor)  # fmt: skip
    done = events[-1][1]
    assert done["state"] == "waiting"
    assert done["answer"].startswith("Kami tutup sekarang.")
    assert f"{malay_day} {opens.day}/{opens.month}, 09:00" in done["answer"]
    assert "telefon +60 4-555 0101" in done["answer"]  # the contact labelled in Malay too


@pytest.mark.parametrize(
    ("at", "is_open_then", "next_open"),
    [
        # Penang, 2026: Christmas Day (Friday) is a public holiday; Saturday opens at 10:00.
        ("2026-12-24T19:59+08:00", True, "2026-12-26T10:00+08:00"),
        ("2026-12-24T20:00+08:00", False, "2026-12-26T10:00+08:00"),
        ("2026-12-25T12:00+08:00", False, "2026-12-26T10:00+08:00"),
        # Lunch break on a Monday; then the afternoon span.
        ("2026-12-28T13:30+08:00", False, "2026-12-28T14:00+08:00"),
        # George Town Heritage Day (7 July) is Penang's own: Selangor's shop opens that day.
        ("2026-07-07T12:00+08:00", False, "2026-07-08T10:00+08:00"),
        # A closure staff added (31 December), then the new year's holiday: 2 January.
        ("2026-12-30T21:00+08:00", False, "2027-01-02T10:00+08:00"),
        # Told in UTC, read in the shop's time: 02:30 UTC is 10:30 in Penang.
        ("2026-12-28T02:30+00:00", True, "2026-12-28T14:00+08:00"),
    ],
)
def test_business_hours_know_breaks_closures_and_each_states_public_holidays(
    at: str, is_open_then: bool, next_open: str
) -> None:
    from chatbot.inbox.hours import is_open, next_opening
    from chatbot.settings import BusinessHours

    weekdays = {day: "10:00-20:00" for day in ("tue", "wed", "thu", "fri", "sat")}
    penang = BusinessHours(
        **weekdays, mon="10:00-13:00, 14:00-20:00", public_holidays="Pulau Pinang",
        closed_on=[dt.date(2026, 12, 31)],
    )  # fmt: skip
    now = dt.datetime.fromisoformat(at)
    assert is_open(penang, now) is is_open_then
    assert next_opening(penang, now) == dt.datetime.fromisoformat(next_open)
    selangor = penang.model_copy(update={"public_holidays": "SGR"})
    assert is_open(selangor, dt.datetime.fromisoformat("2026-07-07T12:00+08:00"))


def test_business_hours_refuse_what_is_no_time_or_state() -> None:
    from pydantic import ValidationError

    from chatbot.settings import BusinessHours

    assert BusinessHours(mon="10am-8pm", tue="9-12.30").model_dump()["tue"] == "09:00-12:30"
    for wrong in ({"mon": "20:00-10:00"}, {"tue": "10-25"}, {"public_holidays": "Bali"}):
        with pytest.raises(ValidationError):
            BusinessHours(**wrong)


def test_a_customer_no_one_can_answer_now_leaves_a_contact_for_a_call_back(shop, run_cli) -> None:
    """Told what for and for how long, the customer leaves a phone number; staff see it partly
    hidden in the list and whole when they open it (audited); it is sealed in the database, in
    the customer's export, and gone with their erasure."""
    server, data = shop
    token = begin(server)
    done = said(server, "boleh saya cakap dengan orang?", token)
    assert done["state"] == "waiting" and done["lead"] is True
    profile = httpx.get(f"{server.url}/api/bots/{BOT}/profile").json()
    assert "{days}" in profile["texts"]["ms"]["lead_purpose"] and profile["retention_days"] == 30
    url = f"{server.url}/api/bots/{BOT}/conversations/{token}/lead"
    malay = {"X-Forwarded-For": _address[token], "Accept-Language": "ms"}
    for body, error in (
        ({"name": "Siti", "message": "Kek harijadi"}, "lead_contact_missing"),
        ({"name": "Siti", "phone": "call me"}, "lead_bad_phone"),
        ({"name": "Siti", "email": "siti@"}, "lead_bad_email"),
        ({"name": "Siti", "phone": "0123456789", "message": "x" * 1001}, "too_long_lead"),
    ):
        refused = httpx.post(url, json=body, headers=malay)
        assert refused.status_code == 400 and refused.json()["error"] == error
        assert refused.json()["message"].startswith(("Sila", "Nombor", "Alamat", "Terlalu"))
    taken = httpx.post(
        url,
        json={"name": "Siti Aminah", "phone": "012-345 6789", "message": "Kek harijadi Sabtu"},
        headers=malay,
    )
    assert taken.status_code == 201 and taken.json()["message"].startswith("Terima kasih")

    def cli(*args: str) -> Any:
        done = run_cli(*args, data_dir=data)
        assert done.code == 0, done.err
        return json.loads(done.out) if "--json" in args else done.out

    [listed] = [row for row in cli("leads", "list", "--bot", BOT, "--json")
                if row["conversation_id"] == key_of(server, token)]  # fmt: skip
    assert listed["name"] == "S•••" and listed["contact"] == "•••• 6789"
    assert listed["status"] == "new"
    opened = cli("leads", "show", "--bot", BOT, str(listed["id"]), "--json")
    assert opened["phone"] == "012-345 6789" and opened["name"] == "Siti Aminah"
    assert opened["language"] == "ms"
    report = cli("audit", "report", "--json")
    assert any(e["action"] == "lead.open" for e in report)
    cli("leads", "status", "--bot", BOT, str(listed["id"]), "contacted")
    database = b"".join(f.read_bytes() for f in Path(data).glob("chatbot.db*"))
    assert b"Siti Aminah" not in database and b"345 6789" not in database

    exported = cli("privacy", "export", "--contact", "+60123456789")
    [conversation] = json.loads(exported)["conversations"]
    assert conversation["leads"][0]["phone"] == "012-345 6789"
    assert conversation["leads"][0]["status"] == "contacted"
    cli("privacy", "erase", "--contact", "0123456789", "--yes")
    assert all(
        row["conversation_id"] != key_of(server, token)
        for row in cli("leads", "list", "--bot", BOT, "--json")
    )


def test_the_chat_page_offers_a_call_back_when_no_one_can_answer(browser: Any, shop) -> None:
    """In the browser: asking for a person with no one in the inbox shows the call-back form,
    saying what the details are for and for how long; a wrong number is refused in plain
    words, a right one thanked."""
    server, _ = shop
    context = browser.new_context(
        viewport={"width": 400, "height": 760},
        extra_http_headers={"X-Forwarded-For": f"10.0.{next(_visitors)}.1"},
    )
    page = context.new_page()
    page.goto(f"{server.url}/chat/{BOT}/")
    page.locator("#agree").click()
    page.locator("#message").fill("Do you sell durian cakes?")
    page.locator("#send").click()
    page.get_by_text("Sorry, I couldn't find that").wait_for(timeout=60_000)
    page.locator("#message").fill("I need to talk to a real person")
    page.locator("#send").click()
    form = page.locator("form.lead")
    form.wait_for(timeout=60_000)
    assert "keep them for 30 days" in form.inner_text()
    # What it is about: the question the bot could not answer, not the request for a person.
    assert form.get_by_placeholder("What is it about?").input_value() == (
        "Do you sell durian cakes?"
    )
    form.get_by_placeholder("Your name").fill("Ahmad")
    form.get_by_placeholder("Phone").fill("not a number")
    form.get_by_role("button", name="Ask us to contact me").click()
    form.get_by_text("That phone number doesn't look right").wait_for()
    form.get_by_placeholder("Phone").fill("+60 12-987 6543")
    form.get_by_role("button", name="Ask us to contact me").click()
    page.get_by_text("Thank you! We'll contact you as soon as we can.").wait_for()
    page.screenshot(path=ARTIFACTS / "lead-form.png", full_page=True)
    context.close()


class Receiver:
    """A shop's own tool receiving webhooks on loopback: it checks each post's signature as
    the docs tell a receiver to, answers 500 to the first `fail_first` posts, and keeps the
    ones it accepted."""

    def __init__(self, fail_first: int = 0) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.secret = ""
        self.accepted: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.refused = 0
        self.arrived = threading.Condition()
        receiver, failing = self, [fail_first]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import hashlib
                import hmac
                import time

                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers["X-Chatbot-Timestamp"]
                mac = hmac.new(receiver.secret.encode(), stamp.encode() + b"." + body,
                               hashlib.sha256).hexdigest()  # fmt: skip
                genuine = hmac.compare_digest(f"sha256={mac}", self.headers["X-Chatbot-Signature"])
                fresh = abs(time.time() - int(stamp)) < 300
                with receiver.arrived:
                    if not (genuine and fresh) or failing[0] > 0:
                        failing[0] -= 1
                        receiver.refused += 1
                        self.send_response(500 if genuine else 401)
                    else:
                        receiver.accepted.append((dict(self.headers), json.loads(body)))
                        self.send_response(204)
                    receiver.arrived.notify_all()
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/chatbot"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def wait_for(self, event: str, timeout: float = 30) -> tuple[dict[str, str], dict[str, Any]]:
        def found() -> Any:
            return next((p for p in self.accepted if p[1]["event"] == event), None)

        with self.arrived:
            assert self.arrived.wait_for(lambda: found() is not None, timeout), self.accepted
            return found()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def test_staff_are_told_by_email_and_signed_webhook_and_a_failed_post_is_retried(
    shop, run_cli, mailbox: Mailbox, console
) -> None:
    from chatbot.actions.alerts import deliveries_of

    """A customer waiting for a person e-mails the bot's staff (a real SMTP server on
    loopback) and posts a signed webhook; the receiver fails the first post, and the retry
    gets through; a receiver that is down fails each attempt, and the deliveries say so."""
    server, data = shop

    def cli(*args: str) -> Any:
        done = run_cli(*args, data_dir=data)
        assert done.code == 0, done.err
        return json.loads(done.out) if "--json" in args else done.out

    staff_addresses = "handoff.email_to=mak.teh@kek.example,adik@kek.example"
    made = run_cli("bots", "create", "cakes", "title=Kek Mak Teh", staff_addresses, data_dir=data)
    assert made.code == 0, made.err
    receiver, down = Receiver(fail_first=1), Receiver()
    try:
        added = cli("webhooks", "add", "--bot", "cakes", receiver.url)
        receiver.secret = added.split("shown once; keep it in the receiver): ")[1].strip()
        down.stop()  # a receiver that is down
        cli("webhooks", "add", "--bot", "cakes", down.url, "--event", "handoff.requested")
        visitor = f"10.0.{next(_visitors)}.1"
        token = start_conversation(server, bot="cakes", headers={"X-Forwarded-For": visitor})
        _, events = chat(server, "can I speak to someone? my no 012-777 8888", bot="cakes",
                         conversation_id=token, visitor=visitor)  # fmt: skip
        assert events[-1][1]["state"] == "waiting"

        mail = mailbox.wait_for("A customer is waiting for a person")
        assert mail["To"] == "mak.teh@kek.example, adik@kek.example"
        assert mail["Subject"] == "[cakes] A customer is waiting for a person"
        text = mail.get_content()
        assert "https://chat.gadgetcare.example/admin/" in text and key_of(server, token) in text
        assert "777 8888" not in text  # the customer's number stays in the console

        headers, posted = receiver.wait_for("handoff.requested")
        assert receiver.refused == 1  # the first post failed; the retry got through
        assert headers["X-Chatbot-Event"] == "handoff.requested"
        assert posted["data"]["conversation"] == key_of(server, token)
        assert posted["data"]["reason"] == "asked" and "[PHONE]" in posted["data"]["question"]

        def settled() -> bool:
            done = [
                d for d in deliveries_of(console, "cakes") if d.state in ("delivered", "failed")
            ]
            return len(done) == 3

        # The retries run on the server: ask until each delivery has settled.
        _until(settled, "the deliveries never settled", limit_s=60)
        deliveries = cli("webhooks", "deliveries", "--bot", "cakes", "--json")
        by_to = {row["to"]: row for row in deliveries}
        assert by_to[receiver.url]["state"] == "delivered"
        assert by_to[receiver.url]["attempts"] == 2
        assert by_to[down.url]["state"] == "failed" and by_to[down.url]["attempts"] == 3
        assert by_to[down.url]["outcome"] == "could not connect"
        assert by_to["mak.teh@kek.example, adik@kek.example"]["state"] == "delivered"

        # After hours, the customer leaves a contact: staff are e-mailed and the tool is told,
        # with the contact partly hidden (whole only in the console, audited).
        left = httpx.post(
            f"{server.url}/api/bots/cakes/conversations/{token}/lead",
            json={"name": "Mei Ling", "phone": "012-777 8888", "message": "Kek 2 tingkat"},
            headers={"X-Forwarded-For": visitor},
        )
        assert left.status_code == 201, left.text
        mail = mailbox.wait_for("A customer asked to be contacted")
        assert "Kek 2 tingkat" in mail.get_content() and "777 8888" not in mail.get_content()
        _, posted = receiver.wait_for("lead.created")
        assert posted["data"]["contact"] == "•••• 8888" and "Mei" not in json.dumps(posted)
    finally:
        receiver.stop()


def test_outcomes_count_each_conversation_as_intercom_counts_fin_s(shop, console, run_cli) -> None:  # type: ignore[no-untyped-def]
    """Involvement, resolution (confirmed, assumed), automation and handoff rates and CSAT,
    from conversations a customer has over the chat API, judged two hours on (every one of
    them ended); a greeting alone is not a resolution, "I don't know" is not one either."""
    from chatbot.actions.outcomes import behind, report
    from chatbot.inbox.outcomes import Outcome

    server, _ = shop
    later = time.time() + 2 * 3600
    before = report(console, BOT, now=later).total

    greeted = begin(server)
    assert said(server, "hi", greeted)["feedback"] is False  # nothing asked: nothing to rate
    confirmed = begin(server)
    assert said(server, "What are your opening hours?", confirmed)["answered"] is True
    thanked = said(server, "thanks!", confirmed)
    assert thanked["feedback"] is True  # closing: asked how it went, once
    url = f"{server.url}/api/bots/{BOT}/conversations/{confirmed}/feedback"
    visitor = {"X-Forwarded-For": _address[confirmed]}
    assert httpx.post(url, json={"score": 5}, headers=visitor).status_code == 204
    assumed = begin(server)
    said(server, "What are your opening hours?", assumed)  # and leaves
    unanswered = begin(server)
    assert said(server, "Do you sell durian cakes?", unanswered)["answered"] is False
    rated_down = begin(server)
    answer = said(server, "What are your opening hours?", rated_down)
    rating = f"{server.url}/api/bots/{BOT}/answers/{answer['answer_id']}/rating"
    down = {"conversation_id": rated_down, "rating": "down"}
    assert httpx.post(rating, json=down, headers=visitor).status_code == 204
    person = begin(server)
    said(server, "What are your opening hours?", person)
    said(server, "can I talk to a real person?", person)
    assert said(server, "ok thank you", person)["feedback"] is False  # a person has it now

    # A score that is no score, or a conversation not the customer's: refused in plain words.
    refused = httpx.post(url, json={"score": 9}, headers=visitor)
    assert refused.status_code == 400 and "could not be read" in refused.json()["message"]
    other = f"{server.url}/api/bots/{BOT}/conversations/{'f' * 32}/feedback"
    assert httpx.post(other, json={"score": 1}, headers=visitor).status_code == 404

    outcome = {b.conversation_id: b.outcome for b in behind(console, BOT, now=later)}
    assert [outcome[key_of(server, t)] for t in (greeted, confirmed, assumed)] == [
        Outcome.NO_QUESTION,
        Outcome.CONFIRMED,
        Outcome.ASSUMED,
    ]
    assert [outcome[key_of(server, t)] for t in (unanswered, rated_down, person)] == [
        Outcome.UNRESOLVED,
        Outcome.UNRESOLVED,
        Outcome.PERSON,
    ]
    # Still open: a conversation seconds old is not yet "assumed" resolved.
    now = {b.conversation_id: b.outcome for b in behind(console, BOT)}
    assert now[key_of(server, assumed)] is Outcome.OPEN
    after = report(console, BOT, now=later).total
    assert after.conversations - before.conversations == 6
    assert after.involved - before.involved == 5
    assert (after.confirmed - before.confirmed, after.assumed - before.assumed) == (1, 1)
    assert after.person - before.person == 1
    assert (after.rated - before.rated, after.satisfied - before.satisfied) == (1, 1)
    assert after.automation == pytest.approx(after.involvement * after.resolution)
    assert after.automation == pytest.approx(after.resolved / after.conversations)
    # The first question is behind each kept conversation, for the owner to open.
    # The command line says the same figures, for scripts and reports.
    shown = run_cli("outcomes", "--bot", BOT, "--json", data_dir=shop[1])
    assert shown.code == 0, shown.err
    total = json.loads(shown.out)["total"]
    assert total["conversations"] == after.conversations
    assert total["handed_to_person"] == after.person and total["csat"] == after.csat
    assumed_ones = behind(console, BOT, Outcome.ASSUMED, now=later)
    firsts = {b.conversation_id: b.first_question for b in assumed_ones}
    assert firsts[key_of(server, assumed)] == "What are your opening hours?"
