"""The console's API called as an attacker would, without the browser: Gradio's own upload and
queue endpoints with a staff session, asking for what the page never sends (review #15)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from chatbot.store.personal_data import conversation_key
from tests.conftest import DEMO, ROOT
from tests.servers import Server, chat
from tests.test_console import (
    EDITOR,
    OWNER,
    PASSWORD,
    console_server,
    log_in,
    make_account,
)

__all__ = ["console_server"]  # the fixture, shared with test_console.py's own


def session(server: Server, username: str, address: str) -> httpx.Client:
    """An HTTP client holding a staff member's session cookie, as curl with it would, with the
    console's page "opened" (its load event run) in a Gradio session of its own."""
    logged_in = log_in(server, username, PASSWORD, address)
    assert logged_in.status_code == 303, logged_in.text
    client = httpx.Client(base_url=server.url, timeout=120)
    client.cookies.set("chatbot_session", logged_in.cookies["chatbot_session"], path="/admin")
    client.headers["x-test-session-hash"] = uuid.uuid4().hex
    call(client, "on_load", [])
    return client


def call(
    client: httpx.Client, api_name: str, data: list[Any], event_data: Any = None
) -> dict[str, Any]:
    """Run one console event through Gradio's queue API; its last message."""
    session_hash = client.headers["x-test-session-hash"]
    joined = join(client, api_name, data, event_data)
    assert joined.status_code == 200, joined.text
    with client.stream(
        "GET", "/admin/gradio_api/queue/data", params={"session_hash": session_hash}
    ) as events:
        for line in events.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message  # type: ignore[no-any-return]
    raise AssertionError("the event never completed")


def file_data(path: str) -> dict[str, Any]:
    return {"path": path, "orig_name": Path(path).name, "meta": {"_type": "gradio.FileData"}}


def uploaded(client: httpx.Client, files: list[tuple[str, bytes]]) -> list[str]:
    """Files sent through the console's upload endpoint, as the page sends them: their paths."""
    reply = client.post(
        "/admin/gradio_api/upload", files=[("files", (name, body)) for name, body in files]
    )
    assert reply.status_code == 200, reply.text
    return list(reply.json())


def outcome(message: dict[str, Any]) -> str:
    """What the console shows after an upload (its summary, Markdown escapes read as the page
    shows them), or the error it raised."""
    output = message.get("output") or {}
    if not message.get("success", True) or "error" in output:
        return str(output.get("error") or message.get("output"))
    return re.sub(r"\\(.)", r"\1", str(output["data"][0]))


def documents(run_cli: Any, server: Server, bot: str) -> list[str]:
    """The documents customers' answers come from, as `chatbot docs` lists them."""
    listed = run_cli("docs", "--bot", bot, "--json", data_dir=server.log.parent)
    assert listed.code == 0, listed.err
    return [d["source"] for d in json.loads(listed.out)]


def join(
    client: httpx.Client, api_name: str, data: list[Any], event_data: Any = None
) -> httpx.Response:
    """Ask for one console event through Gradio's queue API; the queue's own answer.
    `event_data`: what a click on a table row sends with it."""
    config = client.get("/admin/config").json()
    fn = next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)
    return client.post(
        "/admin/gradio_api/queue/join",
        json={
            "data": data,
            "fn_index": fn,
            "session_hash": client.headers["x-test-session-hash"],
            "trigger_id": None,
            "event_data": event_data,
        },
    )


def refusal(reply: httpx.Response) -> str:
    assert reply.status_code == 400, (reply.status_code, reply.text)
    return str(reply.json()["detail"])


def test_an_editor_cannot_make_the_console_ingest_a_file_of_the_servers_disk(
    console_server: Server, run_cli: Any
) -> None:
    editor = session(console_server, EDITOR, "198.51.100.40")
    secret = console_server.log.parent / "catalog-of-another-tenant.txt"
    secret.write_text("Our supplier discount is 40 percent.\n", encoding="utf-8")
    for path in (str(ROOT / "README.md"), "/etc/hostname", str(secret)):
        said = refusal(join(editor, "upload", ["shop", [file_data(path)], False]))
        assert (
            said == f"{Path(path).name}: this file did not arrive through your upload;"
            " upload it again"
        ), said
    listed = documents(run_cli, console_server, "shop")
    assert "README.md" not in listed and "hostname" not in listed
    assert secret.name not in listed
    # Refused before Gradio read it: no copy of it anywhere in the console's upload folder.
    copies = [
        p
        for p in (console_server.log.parent / "console-uploads").rglob("*")
        if p.is_file() and b"supplier discount" in p.read_bytes()
    ]
    assert not copies, f"the file was copied before it was refused: {copies}"


def test_an_event_naming_an_endless_file_is_refused_and_customers_are_still_served(
    console_server: Server,
) -> None:
    editor = session(console_server, EDITOR, "198.51.100.44")
    editor.timeout = httpx.Timeout(10)
    # Gradio reads a file an event names wherever it sits in the event, typed as a file or not.
    untyped = {"path": "/dev/zero", "orig_name": "zero"}
    for files in ([file_data("/dev/zero")], [untyped], {"nested": [file_data("/dev/urandom")]}):
        said = refusal(join(editor, "upload", ["shop", files, False]))
        assert "did not arrive through your upload" in said, said
    with httpx.Client(base_url=console_server.url, timeout=10) as customer:
        assert customer.get("/healthz").status_code == 200


def test_a_file_uploaded_in_one_session_cannot_be_claimed_by_another(
    console_server: Server, run_cli: Any
) -> None:
    ben = session(console_server, EDITOR, "198.51.100.41")
    ana = session(console_server, OWNER, "198.51.100.42")
    faq = (DEMO / "documents" / "faq.csv").read_bytes()
    [path] = uploaded(ben, [("prices.csv", faq)])
    said = refusal(join(ana, "upload", ["shop", [file_data(path)], False]))
    assert "did not arrive through your upload" in said, said
    assert "prices.csv" not in documents(run_cli, console_server, "shop")


def test_uploads_are_removed_from_the_servers_disk_once_ingested_or_rejected(
    console_server: Server, run_cli: Any
) -> None:
    editor = session(console_server, EDITOR, "198.51.100.43")
    faq = (DEMO / "documents" / "faq.csv").read_bytes()
    paths = uploaded(editor, [("hours.csv", faq), ("setup.exe", b"MZ\x90\x00 not a document")])
    assert all(Path(p).is_file() for p in paths)
    said = outcome(call(editor, "upload", ["shop", [file_data(p) for p in paths], False]))
    assert "1 ingested" in said and "rejected: setup.exe" in said, said
    assert "hours.csv" in documents(run_cli, console_server, "shop")
    left = [p for p in paths if Path(p).exists()]
    assert not left, f"temporary copies left on the server: {left}"


def test_staff_never_get_a_customers_conversation_credential(console_server: Server) -> None:
    """A conversation's id is the customer's key to it on the public chat API (read it back,
    add turns, erase it). Staff see conversations by a reference of their own, which that API
    does not take, and the database does not hold the key either."""
    answered, events = chat(console_server, "Do you repair water damage?", bot="shop")
    assert answered.status_code == 200
    [token] = {data["conversation_id"] for name, data in events if name in ("start", "done")}
    _, events = chat(console_server, "Do you sell birthday cakes?", bot="shop")
    [other] = {data["conversation_id"] for name, data in events if name in ("start", "done")}
    editor = session(console_server, EDITOR, "198.51.100.45")
    owner = session(console_server, OWNER, "198.51.100.46")
    gaps = json.dumps(call(editor, "gap_rows", ["shop"])["output"], ensure_ascii=False)
    recent = json.dumps(call(owner, "recent", ["shop", "all", 30])["output"], ensure_ascii=False)
    assert "birthday cakes" in gaps and "water damage" in recent  # the views do list them
    for shown in (gaps, recent):
        assert token not in shown and other not in shown
    stored = b"".join(p.read_bytes() for p in console_server.log.parent.glob("chatbot.db*"))
    assert token.encode() not in stored and other.encode() not in stored
    # What staff are shown for a conversation opens nothing on the customers' API: the
    # beginning of its reference in the tables, the whole of it once a row is clicked.
    assert re.search(r"\b[0-9a-f]{8}…", gaps) and re.search(r"\b[0-9a-f]{8}…", recent)
    row = {"index": [0, 0], "value": "", "row_value": [], "selected": True}
    clicked = json.dumps(call(owner, "picked", [None], row)["output"])
    references = set(re.findall(r"\b[0-9a-f]{32}\b", clicked))
    assert references, "the console names each conversation"
    for reference in references:
        read = httpx.get(f"{console_server.url}/api/bots/shop/conversations/{reference}")
        assert read.status_code == 404, read.text
    # The customer's own key still works.
    own = httpx.get(f"{console_server.url}/api/bots/shop/conversations/{token}")
    assert own.status_code == 200 and "water damage" in own.text


def test_a_slow_website_holds_up_no_other_sites_read(console_server: Server) -> None:
    """Two staff members read two websites from the console; the first site answers a byte
    at a time. The second read is not queued behind the first."""
    import threading

    from tests.website import Website, page

    with Website() as slow, Website() as quick:
        links = "".join(f'<a href="/trickle?{n}">Page {n}</a>' for n in range(5))
        slow.state.pages["/"] = page("Slow shop", links)
        slow_reader = session(console_server, EDITOR, "198.51.100.47")
        quick_reader = session(console_server, OWNER, "198.51.100.48")
        first: list[dict[str, Any]] = []
        reading = threading.Thread(
            target=lambda: first.append(call(slow_reader, "read", ["shop", slow.url])),
            daemon=True,
        )
        reading.start()
        try:
            assert slow.state.trickling.wait(60), "the slow site was never asked"
            said = outcome(call(quick_reader, "read", ["shop", quick.url]))
            assert "prices" in said.lower(), said
            assert reading.is_alive(), "the quick site's read waited for the slow one"
            again = outcome(call(quick_reader, "read", ["shop", slow.url]))
            assert "is being read already" in again, again  # one read of a site at a time
        finally:
            slow.state.release_slow.set()  # the slow site's pages end now
            reading.join(120)
        assert first and first[0]["msg"] == "process_completed"


def settings_form(client: httpx.Client, bot: str) -> tuple[dict[str, Any], list[Any]]:
    """The bot settings form as the page fills it for this session: {label: value}, and the
    data of a save with those values (what the page sends when Save is clicked)."""
    config = client.get("/admin/config").json()
    events = {d.get("api_name"): d for d in config["dependencies"]}
    labels = {c["id"]: str(c.get("props", {}).get("label") or "") for c in config["components"]}
    filled = call(client, "fill", [bot])["output"]["data"]
    values = {
        component: update.get("value") if isinstance(update, dict) else update
        for component, update in zip(events["fill"]["outputs"], filled, strict=True)
    }
    values[next(i for i, label in labels.items() if label == "Bot")] = bot
    save = events["save"]["inputs"]
    return {labels[i]: values.get(i) for i in save}, [values.get(i) for i in save]


def test_an_editor_cannot_change_what_only_an_owner_may(console_server: Server) -> None:
    """Retention (customers' data kept), the privacy notice, unchecked answers, the model, the
    sites that may show the chat and how customers are handed to a person are the owner's: an
    editor asking the console's API to change them without the page is refused, and nothing is
    saved."""
    editor = session(console_server, EDITOR, "198.51.100.49")
    by_label, data = settings_form(editor, "shop")
    labels = list(by_label)
    owners = {
        "Keep conversations for": 0,
        "Privacy notice (English)": "We sell your data.",
        "Answer mode": "generate",
        "Sites allowed to embed": "https://phish.example",
        # A section's own settings too (handoff.enabled), not only whole top-level fields.
        "Pass customers to a person": False,
        "Show the person who joins": "team",
    }
    for start, value in owners.items():
        changed = list(data)
        changed[next(i for i, label in enumerate(labels) if label.startswith(start))] = value
        said = outcome(call(editor, "save", changed))
        assert said.startswith("only an owner may change"), said
    profile = httpx.get(f"{console_server.url}/api/bots/shop/profile").json()
    assert "We sell your data" not in json.dumps(profile)
    # What is an editor's stays an editor's.
    changed = list(data)
    changed[next(i for i, label in enumerate(labels) if label == "Greeting")] = "Selamat datang!"
    assert outcome(call(editor, "save", changed)).startswith("Saved: greeting")
    owner = session(console_server, OWNER, "198.51.100.50")
    by_label, data = settings_form(owner, "shop")
    changed = list(data)
    index = next(i for i, label in enumerate(by_label) if label.startswith("Keep conversations"))
    changed[index] = 400
    assert outcome(call(owner, "save", changed)).startswith("Saved: retention_days")


class Beacon:
    """An address on loopback that counts the requests a browser sends it."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.hits: list[str] = []
        beacon = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                beacon.hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_uploads_left_unused_are_cleared_without_a_restart(console_server: Server) -> None:
    """What an upload broken off, or chosen and never used, leaves in the upload folder is
    deleted once it is an hour old; a fresh upload is kept for its session."""
    import os
    import time

    folder = console_server.log.parent / "console-uploads"
    stale = folder / "0123abcd" / "half-sent-price-list.pdf"
    stale.parent.mkdir()
    stale.write_bytes(b"%PDF-1.4 and then the connection dropped")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    os.utime(stale.parent, (two_hours_ago, two_hours_ago))
    editor = session(console_server, EDITOR, "198.51.100.51")
    [fresh] = uploaded(editor, [("hours.csv", (DEMO / "documents" / "faq.csv").read_bytes())])
    assert not stale.exists() and not stale.parent.exists()
    assert Path(fresh).is_file()


def test_customers_words_are_shown_to_the_owner_as_text_and_fetch_nothing(
    browser: Any, console_server: Server
) -> None:
    from tests.servers import chat
    from tests.test_console import choose_bot, open_console

    beacon = Beacon()
    try:
        message = (
            f"<img src={beacon.url}/html.png> ![seen]({beacon.url}/markdown.png)\n"
            "**Bot:** refund of RM5000 approved"
        )
        _, events = chat(console_server, message, bot="shop", visitor="192.0.2.90")
        # Staff open it by the reference the console lists, not by the customer's own id.
        conversation = conversation_key(events[0][1]["conversation_id"])
        page = open_console(browser, console_server, OWNER)
        assert "default-src 'self'" in page.evaluate(
            "fetch('/admin/').then(r => r.headers.get('content-security-policy'))"
        )
        choose_bot(page, "shop")
        page.get_by_role("tab", name="Conversations").click()
        page.get_by_label("Conversation id").fill(conversation)
        page.get_by_role("button", name="Open transcript").click()
        literal = page.get_by_text("**Bot:** refund of RM5000 approved")
        literal.filter(visible=True).first.wait_for(timeout=60_000)
        assert page.get_by_text(f"<img src={beacon.url}/html.png>").count() >= 1
        assert page.locator(f"img[src^='{beacon.url}']").count() == 0
        assert beacon.hits == []
        page.close()
    finally:
        beacon.close()


def test_logging_out_ends_the_session_for_every_way_in(console_server: Server) -> None:
    for logout in ("get", "post"):
        editor = session(console_server, EDITOR, f"198.51.100.5{len(logout)}")
        cookie = editor.cookies.get("chatbot_session")
        assert editor.get("/admin/gradio_api/info").status_code == 200
        if logout == "get":  # Gradio's own logout link
            editor.get("/admin/logout")
        else:
            editor.post("/admin/logout")
        stale = httpx.get(
            f"{console_server.url}/admin/gradio_api/info", cookies={"chatbot_session": cookie}
        )
        assert stale.status_code == 401, logout


def test_a_shops_staff_reach_their_own_bots_only_however_they_call_the_console(
    console_server: Server, run_cli
) -> None:  # type: ignore[no-untyped-def]
    """A firm runs bots for several shops. An editor of one shop, calling every console event
    that acts on a bot directly with another shop's bot, is refused each time in plain words;
    a shop's owner sees their own shop's audit entries and customers only, and cannot manage
    accounts or bots."""
    data = console_server.log.parent
    assert run_cli("bots", "create", "kedai", "title=Kedai Runcit", data_dir=data).code == 0
    make_account(run_cli, data, "siti", "editor")
    make_account(run_cli, data, "raju", "owner", "kedai")
    _, events = chat(
        console_server, "Is the shop open on Sunday?", bot="shop", visitor="192.0.2.90"
    )
    shop_customer = conversation_key(events[0][1]["conversation_id"])

    # Siti's console is open on every bot when the firm's owner gives her kedai's alone: her
    # page still lists the shop, so each request is checked, not only the page's list.
    editor = session(console_server, "siti", "198.51.100.91")
    limited = run_cli("admin", "bots", "siti", "--bot", "kedai", data_dir=data)
    assert limited.code == 0 and "siti sees kedai" in limited.out, limited.err
    reloaded = session(console_server, "siti", "198.51.100.91")
    assert "editor of kedai" in json.dumps(call(reloaded, "on_load", [])["output"]["data"])
    config = editor.get("/admin/config").json()
    dropdown = next(
        c["id"]
        for c in config["components"]
        if c.get("type") == "dropdown" and c.get("props", {}).get("label") == "Bot"
    )
    defaults = {c["id"]: c.get("props", {}).get("value") for c in config["components"]}
    acting = [
        d
        for d in config["dependencies"]
        if dropdown in d["inputs"] and d.get("api_name") and d.get("backend_fn", True)
    ]
    assert len(acting) >= 40  # every tab's events that name the bot, not a sample
    for dependency in acting:
        data_in = ["shop" if i == dropdown else defaults.get(i) for i in dependency["inputs"]]
        # A row clicked in a table: the row, as the page sends it.
        clicked = {"index": [0, 0], "value": "x", "row_value": ["x"], "selected": True}
        said = outcome(call(editor, dependency["api_name"], data_in, clicked))
        refusals = ("does not give you the bot", "Only staff who see every bot may do this")
        assert said.startswith(refusals) or "does not give you the bot" in said, (
            dependency["api_name"],
            said,
        )
    # Its own shop's bot is its to work on.
    assert "does not give you" not in outcome(call(editor, "gap_rows", ["kedai"]))

    owner = session(console_server, "raju", "198.51.100.92")
    entries = json.dumps(call(owner, "audit_rows", [])["output"]["data"])
    assert "kedai" in entries and "shop" not in entries.replace("kedai", "")
    found = call(owner, "customer_conversations", [shop_customer])["output"]["data"]
    assert "Nothing is held of this customer." in json.dumps(found)
    exported = owner.get("/admin/privacy/export.json", params={"conversation": shop_customer})
    assert exported.status_code == 404
    for api_name, data_in in (
        ("account_rows", []),
        ("new_bot", ["kedai-two"]),
        ("remove_bot", ["kedai", True]),
    ):
        said = outcome(call(owner, api_name, data_in))
        assert "Only staff who see every bot may do this" in said, (api_name, said)
    assert "kedai" in run_cli("bots", "list", data_dir=data).out


def test_a_removal_acts_only_on_what_staff_were_asked_about(
    console_server: Server, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Removing asks first, naming what goes. *Yes* acts on what was named, which the server
    holds: a request made without the page that names a document itself removes nothing, nor
    does a *Yes* sent for another bot than the one asked about."""
    data = console_server.log.parent
    assert run_cli("bots", "create", "closing-soon", data_dir=data).code == 0
    notice = tmp_path / "notice.md"
    notice.write_text("# Notice\n\nWe close on 31 December. Vouchers are good until then.\n")
    assert run_cli("ingest", "--bot", "closing-soon", str(notice), data_dir=data).code == 0
    owner = session(console_server, OWNER, "198.51.100.94")
    forged = ["closing-soon", ["closing-soon", "notice.md"]]  # the page never sends this
    assert "Deleted" not in json.dumps(call(owner, "delete_document", forged)["output"])
    assert documents(run_cli, console_server, "closing-soon") == ["notice.md"]

    call(owner, "show_bot", ["closing-soon"])  # as choosing it on the page: its documents listed
    said = json.dumps(call(owner, "ask_delete", ["closing-soon", "notice.md"])["output"])
    assert "Delete notice" in said and "from what closing" in said, said
    elsewhere = json.dumps(call(owner, "delete_document", ["shop", None])["output"])
    assert "Deleted" not in elsewhere, elsewhere
    assert documents(run_cli, console_server, "closing-soon") == ["notice.md"]
    call(owner, "ask_delete", ["closing-soon", "notice.md"])  # asked again, then Yes
    done = outcome(call(owner, "delete_document", ["closing-soon", None]))
    assert done == "Deleted notice.md.", done
    assert documents(run_cli, console_server, "closing-soon") == []
