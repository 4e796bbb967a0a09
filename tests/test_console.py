"""The staff console at /admin, driven for real: over HTTP for the locks, in headless Chromium for
what staff do (log in, upload, read what was rejected and why, review a conversation)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from chatbot.store.personal_data import conversation_key
from tests.conftest import ARTIFACTS, CORPUS, DEMO
from tests.graph_stub import GraphStub
from tests.servers import Server, chat, sources_of
from tests.test_websites import INTRANET
from tests.website import ABOUT, Website

OWNER, EDITOR, PASSWORD = "ana", "ben", "correct horse battery"
WA_NUMBER_ID = "106540352242922"
GUESSED = "carl"  # the account a password guesser goes after (the others stay usable)


@pytest.fixture(scope="module")
def console_server(  # type: ignore[no-untyped-def]
    tmp_path_factory: pytest.TempPathFactory, run_cli, cli_env: dict[str, str]
) -> Iterator[Server]:
    """A shop bot with its FAQ, an owner and an editor made with `chatbot admin create`; served
    in extract mode (the console is under test here, not the model)."""
    data = tmp_path_factory.mktemp("console")
    made = run_cli(
        "bots", "create", "shop", "title=Gadget Care", "handoff.show_staff_as=name", data_dir=data
    )
    assert made.code == 0, made.err
    assert (
        run_cli("ingest", "--bot", "shop", str(DEMO / "documents" / "faq.csv"), data_dir=data).code
        == 0
    )
    for name, role in ((OWNER, "owner"), (EDITOR, "editor"), (GUESSED, "editor")):
        make_account(run_cli, data, name, role)
    graph = GraphStub(WA_NUMBER_ID, "EAAG-the-right-token-0000")  # Meta's API, for WhatsApp
    env = {
        "CHATBOT_ANSWERING__MODE": "extract",
        "CHATBOT_SERVER__TRUSTED_PROXIES": '["127.0.0.1/32"]',
        "CHATBOT_WHATSAPP__GRAPH_URL": graph.url,
        **INTRANET,  # the websites the tests read are served on loopback
    }
    server = Server(data, env, cli_env)
    yield server
    server.stop()
    graph.close()


def make_account(run_cli: Any, data: Path, name: str, role: str, *bots: str) -> None:
    """`chatbot admin create NAME --role ROLE [--bot BOT]...`, the password on stdin."""
    limited = [arg for bot in bots for arg in ("--bot", bot)]
    made = run_cli(
        "admin", "create", name, "--role", role, *limited, "--password-stdin",
        stdin=PASSWORD + "\n", data_dir=data,
    )  # fmt: skip
    assert made.code == 0, made.err


def log_in(
    server: Server, username: str, password: str, address: str, device: str | None = None
) -> httpx.Response:
    """The login form sent from `address`, by a browser holding the `device` cookie if given."""
    return httpx.post(
        f"{server.url}/admin/login",
        data={"username": username, "password": password, "next": "/admin/"},
        headers={"X-Forwarded-For": address},
        cookies={"chatbot_device": device} if device else None,
    )


def test_nothing_under_admin_answers_without_a_session(console_server: Server) -> None:
    page = httpx.get(f"{console_server.url}/admin/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/admin/login?next=/admin/"
    for path in ("/admin/gradio_api/info", "/admin/config", "/admin/gradio_api/upload"):
        assert httpx.get(f"{console_server.url}{path}").status_code == 401, path
    upload = httpx.post(
        f"{console_server.url}/admin/gradio_api/upload",
        files={"files": ("faq.csv", b"question,answer\nq,a\n")},
    )
    assert upload.status_code == 401
    forged = httpx.get(
        f"{console_server.url}/admin/gradio_api/info",
        cookies={"chatbot_session": "made-up"},
    )
    assert forged.status_code == 401


def test_someone_failing_on_purpose_cannot_keep_the_owner_out_of_their_own_browser(
    console_server: Server, run_cli
) -> None:
    made = run_cli(
        "admin",
        "create",
        "mariam",
        "--password-stdin",
        stdin=PASSWORD + "\n",
        data_dir=console_server.log.parent,
    )
    assert made.code == 0, made.err
    usual = log_in(console_server, "mariam", PASSWORD, "198.51.100.20")  # her own browser
    assert usual.status_code == 303
    device = usual.cookies["chatbot_device"]
    for _ in range(6):  # someone who knows her user name, elsewhere
        log_in(console_server, "mariam", "guessing", "203.0.113.66")
    stranger = log_in(console_server, "mariam", PASSWORD, "198.51.100.21")  # a new browser
    assert stranger.status_code == 429
    other_account = log_in(console_server, EDITOR, PASSWORD, "198.51.100.22")
    borrowed = log_in(  # a device cookie of another account opens nothing for her
        console_server,
        "mariam",
        PASSWORD,
        "198.51.100.22",
        device=other_account.cookies["chatbot_device"],
    )
    assert borrowed.status_code == 429
    again = log_in(console_server, "mariam", PASSWORD, "198.51.100.20", device=device)
    assert again.status_code == 303, again.text
    wrong = log_in(console_server, "mariam", "guessing", "198.51.100.20", device=device)
    assert wrong.status_code == 401  # her browser still needs her password


def test_a_wrong_password_is_refused_and_repeated_failures_must_wait(
    console_server: Server,
) -> None:
    wrong = log_in(console_server, GUESSED, "not the password", "198.51.100.9")
    assert wrong.status_code == 401 and "Wrong user name or password." in wrong.text
    assert "set-cookie" not in wrong.headers
    unknown = log_in(console_server, "nobody", PASSWORD, "198.51.100.9")
    assert unknown.status_code == 401 and "Wrong user name or password." in unknown.text
    for _ in range(4):  # five failures in all for this account
        log_in(console_server, GUESSED, "still wrong", "198.51.100.9")
    held = log_in(console_server, GUESSED, PASSWORD, "198.51.100.10")  # right, but must wait
    assert held.status_code == 429 and "too many failed logins" in held.text.lower()
    editor = log_in(console_server, EDITOR, PASSWORD, "198.51.100.9")
    assert editor.status_code == 303  # another account is not held back
    assert editor.headers["location"] == "/admin/"
    cookie = editor.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie


def test_a_login_form_posted_from_another_site_is_refused(console_server: Server) -> None:
    response = httpx.post(
        f"{console_server.url}/admin/login",
        data={"username": EDITOR, "password": PASSWORD},
        headers={"Origin": "https://evil.example", "X-Forwarded-For": "198.51.100.11"},
    )
    assert response.status_code == 403 and "set-cookie" not in response.headers


def open_console(browser: Any, server: Server, username: str) -> Any:
    """`browser`: a browser, or a context of one (a page of its own size is made in it)."""
    if hasattr(browser, "new_context"):
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
    else:
        page = browser.new_page()
    page.goto(f"{server.url}/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_text(f"Logged in as {username}").wait_for(timeout=60_000)
    return page


def choose_bot(page: Any, bot: str) -> None:
    page.get_by_role("combobox", name="Bot", exact=True).click()
    page.get_by_role("option", name=bot, exact=True).click()


def create_bot(page: Any, title: str, name: str) -> None:
    """A bot made in the console from the business's name (`title`): it is named `name`."""
    page.get_by_label("New bot").fill(title)
    page.get_by_role("button", name="Create bot").click()
    page.wait_for_function(
        "(name) => [...document.querySelectorAll('input[aria-label=Bot]')]"
        ".some(i => i.value === name)",
        arg=name,
    )


def settings_loaded(page: Any) -> None:
    """Wait until the chosen bot's settings fill the form (the embed snippet comes last), so
    that what a test types is not overwritten by the form loading."""
    page.get_by_text("/embed/shop").filter(visible=True).first.wait_for(timeout=60_000)


def test_staff_upload_documents_and_see_each_ones_outcome(
    browser: Any, console_server: Server
) -> None:
    page = open_console(browser, console_server, EDITOR)
    # A bot of its own, made in the console from the business's name, named after it; the
    # next steps are shown until it has documents.
    create_bot(page, "Repairs Corner", "repairs-corner")
    page.get_by_text("Created repairs-corner for Repairs Corner.").wait_for(timeout=30_000)
    page.get_by_text("Next for repairs-corner: it knows nothing yet").wait_for(timeout=30_000)
    create_bot(page, "Repairs Corner", "repairs-corner-2")  # the same name again: numbered
    page.locator("input[type=file]").first.set_input_files(
        [
            str(CORPUS / "pdf" / "malaysia-press-release-2021.pdf"),
            str(CORPUS / "pdf" / "encrypted-password-test.pdf"),
        ]
    )
    page.get_by_role("button", name="Add to the knowledge base").click()
    page.get_by_text(
        "rejected: encrypted-password-test.pdf: the PDF is password-protected"
    ).wait_for(timeout=180_000)
    page.get_by_text("1 ingested (20 passages), 0 unchanged, 1 rejected").wait_for()
    page.get_by_text("it knows nothing yet").wait_for(state="hidden", timeout=30_000)
    # Both are listed among the documents, the rejected one with its reason.
    listed = page.get_by_text("malaysia-press-release-2021.pdf", exact=True)
    assert any(listed.nth(i).is_visible() for i in range(listed.count()))
    reasons = page.get_by_text("the PDF is password-protected; save a copy", exact=False)
    assert sum(reasons.nth(i).is_visible() for i in range(reasons.count())) >= 2
    page.screenshot(path=ARTIFACTS / "console-upload.png", full_page=True)
    # What a customer asking about it would get, before and after staff delete it.
    question = "Apakah kenyataan media mengenai Perintah Kawalan Pergerakan (PKP)?"
    _, found = chat(console_server, question, bot="repairs-corner-2", visitor="192.0.2.50")
    assert "malaysia-press-release-2021.pdf" in sources_of(found)
    page.get_by_role("combobox", name="Document", exact=True).click()
    page.get_by_role("option", name="malaysia-press-release-2021.pdf").click()
    # Asked first, naming what goes; "No" keeps it.
    page.get_by_role("button", name="Delete document").click()
    page.get_by_text("Its 20 passages go from what repairs-corner-2 answers from").wait_for()
    page.get_by_role("button", name="No, keep it").click()
    page.get_by_text("Its 20 passages go").wait_for(state="hidden")
    _, kept = chat(console_server, question, bot="repairs-corner-2", visitor="192.0.2.50")
    assert "malaysia-press-release-2021.pdf" in sources_of(kept)
    page.get_by_role("button", name="Delete document").click()
    page.get_by_role("button", name="Yes, delete it").click()
    page.get_by_text("Deleted malaysia-press-release-2021.pdf.").wait_for(timeout=60_000)
    page.get_by_role("button", name="Yes, delete it").wait_for(state="hidden")
    _, after = chat(console_server, question, bot="repairs-corner-2", visitor="192.0.2.50")
    assert "malaysia-press-release-2021.pdf" not in sources_of(after)
    # An editor does not see conversations or the audit log.
    assert page.get_by_role("tab", name="Conversations").count() == 0
    assert page.get_by_role("tab", name="Audit log").count() == 0
    assert page.get_by_role("tab", name="Customer data").count() == 0
    page.close()


def test_an_owner_finds_a_customers_conversation_and_opening_it_is_audited(
    browser: Any, console_server: Server, run_cli, tmp_path: Path
) -> None:
    _, events = chat(console_server, "Adakah kedai buka pada hari Ahad?", bot="shop")
    conversation = events[0][1]["conversation_id"]
    rated = httpx.post(  # the customer rates the answer down
        f"{console_server.url}/api/bots/shop/answers/{events[-1][1]['answer_id']}/rating",
        json={"conversation_id": conversation, "rating": "down"},
    )
    assert rated.status_code == 204
    _, other = chat(console_server, "Is the shop open on Sunday?", bot="shop", visitor="192.0.2.80")
    unrated = conversation_key(other[0][1]["conversation_id"])  # another customer's, not rated
    _, missed = chat(console_server, "Do you sell drones?", bot="shop", visitor="192.0.2.81")
    assert missed[-1][1]["fallback"] == "no_match"
    # Staff see each conversation by its reference, never by the customer's own id (#28).
    conversation = conversation_key(conversation)
    page = open_console(browser, console_server, OWNER)
    choose_bot(page, "shop")
    page.get_by_role("tab", name="Conversations").click()
    page.get_by_role("button", name="Refresh").first.click()
    # A reference as tables show it: its first 8 characters (the whole would not fit a tablet).
    page.get_by_text(conversation[:8]).filter(visible=True).first.wait_for(timeout=60_000)
    assert page.get_by_text("Adakah kedai buka pada hari Ahad?").count() >= 1
    assert page.get_by_text("an extract", exact=True).count() >= 1  # what answered it
    # Why one was not answered, in words ("no_match" is the chat API's).
    assert page.get_by_text("nothing in the documents answered", exact=True).count() >= 1
    assert page.get_by_text(unrated[:8]).filter(visible=True).count() >= 1  # in the same table
    page.get_by_label("rated down").check()  # only what customers rated down
    page.get_by_text(unrated[:8]).filter(visible=True).first.wait_for(
        state="hidden", timeout=60_000
    )
    assert page.get_by_text(conversation[:8]).filter(visible=True).count() >= 1
    assert page.get_by_text("👎").filter(visible=True).count() >= 1
    # Opened from the list with a click: no id to copy and paste.
    page.get_by_text("Adakah kedai buka pada hari Ahad?").filter(visible=True).first.click()
    page.get_by_text("Sources: FAQ").filter(visible=True).first.wait_for(timeout=60_000)
    assert page.get_by_label("Conversation id").input_value() == conversation
    page.screenshot(path=ARTIFACTS / "console-transcript.png", full_page=True)
    # One click keeps the customer's question as a test question, with the fact of the answer
    # the owner confirms (the bot's own, filled in for them).
    page.get_by_text("Keep a question of it as a test question").click()
    page.get_by_role("button", name="Keep as a test question").click()
    page.get_by_text("as a test question: a right answer holds").wait_for(timeout=60_000)
    exported = tmp_path / "kept.jsonl"
    data = console_server.log.parent
    assert run_cli("eval", "--bot", "shop", "--export", str(exported), data_dir=data).code == 0
    kept = json.loads(exported.read_text(encoding="utf-8").splitlines()[-1])
    assert kept["question"] == "Adakah kedai buka pada hari Ahad?"
    assert kept["answerable"] is True and kept["language"] == "ms" and kept["expect"]
    assert kept["source"] == "faq.csv"
    page.get_by_role("tab", name="Audit log").click()
    page.get_by_role("button", name="Refresh").last.click()
    page.get_by_text("conversation.open").filter(visible=True).first.wait_for(timeout=60_000)
    assert page.get_by_text("knowledge.upload").count() >= 1  # the editor's upload, by name
    # Each action in words, its code beside it for those who search the log by code.
    assert page.get_by_text("opened a conversation (conversation.open)").count() >= 1
    # An owner manages accounts: the new editor can log in at once.
    page.get_by_role("tab", name="Accounts").click()
    page.get_by_label("User name", exact=True).fill("dina")
    # A refusal is one sentence; the table and the form stay as they were (Gradio's own way
    # covers every output of a refused action with a red "Error" badge).
    page.get_by_label("Password (10+ characters)").fill("too short")
    page.get_by_role("button", name="Create account").click()
    page.get_by_text("The password must have at least 10 characters.").first.wait_for()
    assert page.evaluate(ERROR_BADGES) == 0
    assert page.get_by_label("User name", exact=True).input_value() == "dina"
    page.get_by_label("Password (10+ characters)").fill("another long password")
    page.get_by_role("button", name="Create account").click()
    page.get_by_text("dina").filter(visible=True).first.wait_for(timeout=60_000)
    assert (
        log_in(console_server, "dina", "another long password", "198.51.100.30").status_code == 303
    )
    # Removed after being asked, by name and what the account sees: she can log in no more.
    page.get_by_label("User name to remove").fill("dina")
    page.get_by_role("button", name="Remove account").click()
    page.get_by_text("Remove dina's account (editor, sees every bot)?").wait_for(timeout=30_000)
    page.get_by_role("button", name="Yes, remove the account").click()
    page.get_by_text("Remove dina's account").wait_for(state="hidden", timeout=30_000)
    assert (
        log_in(console_server, "dina", "another long password", "198.51.100.31").status_code != 303
    )
    page.close()


def test_an_owner_exports_and_erases_one_customers_data_on_request(
    browser: Any, console_server: Server
) -> None:
    _, mine = chat(console_server, "Is the shop open on Sunday? I'm lee.mei@example.my", bot="shop")
    _, other = chat(console_server, "Is the shop open on Sunday? Call 019-222 3344", bot="shop")
    token, others = mine[0][1]["conversation_id"], other[0][1]["conversation_id"]
    conversation = conversation_key(token)  # what staff see of it
    page = open_console(browser, console_server, OWNER)
    page.get_by_role("tab", name="Customer data").click()
    page.get_by_label("Conversation id, e-mail address or phone number").fill("Lee.Mei@example.my")
    page.get_by_role("button", name="Find").click()
    page.get_by_text(conversation).filter(visible=True).first.wait_for(timeout=60_000)
    link = page.get_by_role("link", name="Download everything held, as JSON")
    exported = page.request.get(console_server.url + str(link.get_attribute("href"))).json()
    assert [c["conversation_id"] for c in exported["conversations"]] == [conversation]
    assert "[EMAIL]" in exported["conversations"][0]["turns"][0]["question"]
    assert httpx.get(console_server.url + str(link.get_attribute("href"))).status_code != 200
    page.screenshot(path=ARTIFACTS / "console-customer-data.png", full_page=True)

    page.get_by_role("button", name="Erase these conversations").click()
    page.get_by_text("Erase 1 conversation of this customer for good?").wait_for()
    page.get_by_role("button", name="Yes, erase them for good").click()
    page.get_by_text("Erased 1 conversation.").wait_for(timeout=60_000)
    shown = f"{console_server.url}/api/bots/shop/conversations"
    assert httpx.get(f"{shown}/{token}").status_code == 404
    assert httpx.get(f"{shown}/{others}").json()["turns"]  # the other customer's: untouched
    page.close()


def test_staff_close_a_gap_with_a_pinned_answer_that_the_next_customer_gets(
    browser: Any, console_server: Server
) -> None:
    for visitor in ("192.0.2.60", "192.0.2.61"):  # two customers ask what the documents lack
        _, events = chat(console_server, "Do you sell laptops?", bot="shop", visitor=visitor)
        assert events[-1][1]["fallback"] == "no_match"
    asked_last = conversation_key(events[0][1]["conversation_id"])
    # An answered question, even rated down, is no gap: it is in the review's "rated down".
    # (The FAQ answers what an iPhone screen costs; it says nothing of batteries.)
    _, answered = chat(
        console_server,
        "How much does it cost to replace an iPhone screen?",
        bot="shop",
        visitor="192.0.2.63",
    )
    assert answered[-1][1]["kind"] == "extract"
    httpx.post(
        f"{console_server.url}/api/bots/shop/answers/{answered[-1][1]['answer_id']}/rating",
        json={"conversation_id": answered[0][1]["conversation_id"], "rating": "down"},
    )
    page = open_console(browser, console_server, EDITOR)
    choose_bot(page, "shop")
    page.get_by_role("tab", name="Gaps").click()  # shown when opened, no Refresh pressed
    page.get_by_text("Do you sell laptops?").filter(visible=True).first.wait_for(timeout=60_000)
    # Each gap with the conversations it came from, the latest first.
    assert page.get_by_text(asked_last[:8]).filter(visible=True).count() >= 1
    gaps = page.locator("table").filter(has_text="Do you sell laptops?").first.inner_text()
    assert "iPhone screen" not in gaps
    page.get_by_role("combobox", name="Question to answer").click()
    page.get_by_role("option", name="Do you sell laptops?").click()
    page.get_by_label("The right answer").fill(
        "No, we repair phones and tablets only. For laptops, try Penang Digital Mall."
    )
    page.get_by_role("button", name="Pin this answer").click()
    page.get_by_text("Pinned. Customers asking").wait_for(timeout=60_000)
    page.get_by_text("Kept as a test question").wait_for()  # ticked by default
    # Answered once, it leaves the open questions; a new customer's question appears by
    # itself while the tab is open.
    open_questions = page.locator("table").filter(has_text="also asked as").first
    open_questions.filter(has_text="Do you sell laptops?").wait_for(
        state="detached", timeout=30_000
    )
    chat(console_server, "Do you fix washing machines?", bot="shop", visitor="192.0.2.64")
    page.locator("table").filter(has_text="Do you fix washing machines?").first.wait_for(
        timeout=30_000
    )
    page.screenshot(path=ARTIFACTS / "console-gaps.png", full_page=True)

    # The next customer, wording it a little differently, gets the staff's answer as written.
    _, events = chat(console_server, "do you sell laptops", bot="shop", visitor="192.0.2.62")
    done = events[-1][1]
    assert done["answer"].startswith("No, we repair phones and tablets only.")
    assert done["answered"] is True and sources_of(events) == ["pinned-answers"]

    page.get_by_role("tab", name="How it is doing").click()
    page.get_by_role("button", name="Refresh").filter(visible=True).first.click()
    page.get_by_text("Last 30 days:").wait_for(timeout=60_000)
    summary = page.get_by_text("Last 30 days:").inner_text()
    assert "by an extract from the documents" in summary and "1 by a pinned answer" in summary
    page.get_by_text("Questions a day").filter(visible=True).first.wait_for(timeout=30_000)
    page.screenshot(path=ARTIFACTS / "console-stats.png", full_page=True)
    page.close()


def test_staff_change_a_bots_settings_and_the_chat_uses_them_at_once(
    browser: Any, console_server: Server
) -> None:
    page = open_console(browser, console_server, EDITOR)
    choose_bot(page, "shop")
    page.get_by_role("tab", name="Bot settings").click()
    settings_loaded(page)
    page.get_by_label("Greeting").fill("Selamat datang ke Gadget Care!")
    page.get_by_label("WhatsApp number (+60…)").fill("+60 12-345 6789")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved:").wait_for(timeout=60_000)
    assert (
        "/embed/shop"
        in page.locator("textarea, .cm-content").filter(has_text="/embed/shop").first.text_content()
    )
    page.close()
    profile = httpx.get(f"{console_server.url}/api/bots/shop/profile").json()
    assert profile["greeting"] == "Selamat datang ke Gadget Care!"
    # A question the documents cannot answer now offers the WhatsApp link.
    _, events = chat(console_server, "Ada jual komputer riba?", bot="shop", visitor="192.0.2.70")
    assert "https://wa.me/60123456789" in events[-1][1]["answer"]
    # A bad value is refused with the reason, and nothing is saved.
    page = open_console(browser, console_server, EDITOR)
    choose_bot(page, "shop")
    page.get_by_role("tab", name="Bot settings").click()
    settings_loaded(page)
    page.get_by_label("E-mail").fill("not an address")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("is not an e-mail address").first.wait_for(timeout=60_000)
    page.close()
    assert httpx.get(f"{console_server.url}/api/bots/shop/profile").status_code == 200


def test_the_form_shows_the_last_chosen_bot_however_quickly_staff_switch(
    browser: Any, console_server: Server
) -> None:
    page = open_console(browser, console_server, EDITOR)
    create_bot(page, "branch", "branch")  # the first bot by name, with nothing in it
    page.close()
    for _ in range(5):
        # The console opens on the first bot ("branch"): the choice of another one comes while
        # the first one's documents and settings are still loading.
        page = open_console(browser, console_server, EDITOR)
        page.get_by_role("tab", name="Bot settings").click()
        choose_bot(page, "shop")
        settings_loaded(page)
        assert page.get_by_label("Title (above the chat)").input_value() == "Gadget Care"
        assert page.locator("textarea, .cm-content").filter(has_text="/embed/branch").count() == 0
        page.get_by_role("tab", name="Knowledge").click()
        page.get_by_text("faq.csv", exact=True).filter(visible=True).first.wait_for(timeout=60_000)
        page.close()


def test_a_save_pressed_before_the_chosen_bots_settings_arrive_is_refused(
    browser: Any, console_server: Server
) -> None:
    page = open_console(browser, console_server, EDITOR)
    create_bot(page, "outlet", "outlet")  # its settings fill the form
    page.get_by_role("tab", name="Bot settings").click()
    page.get_by_text("/embed/outlet").filter(visible=True).first.wait_for(timeout=60_000)
    # Hold back the request that fetches shop's settings, as a slow server would.
    held: list[Any] = []

    def hold_shops_settings(route: Any) -> None:
        if (route.request.post_data_json or {}).get("data") == ["shop"]:
            held.append(route)
        else:
            route.continue_()

    page.route("**/gradio_api/queue/join*", hold_shops_settings)
    # Save is pressed once the request is on its way (and held), not before it is sent.
    with page.expect_request(
        lambda r: "queue/join" in r.url and (r.post_data_json or {}).get("data") == ["shop"]
    ):
        choose_bot(page, "shop")
    page.get_by_role("button", name="Save").click()  # the form still holds outlet's settings
    page.get_by_text("The settings of shop are still loading").first.wait_for(timeout=60_000)
    assert len(held) == 1
    held[0].continue_()
    settings_loaded(page)
    assert page.get_by_label("Title (above the chat)").input_value() == "Gadget Care"
    page.close()
    assert httpx.get(f"{console_server.url}/api/bots/shop/profile").json()["title"] == "Gadget Care"


def test_try_the_bot_shows_the_passage_the_answer_came_from_and_no_other(
    browser: Any, console_server: Server
) -> None:
    page = open_console(browser, console_server, EDITOR)
    choose_bot(page, "shop")
    page.get_by_role("tab", name="Try the bot").click()
    page.get_by_label("Ask as a customer would").fill("Do you open on Sunday?")
    page.get_by_role("button", name="Ask", exact=True).click()
    page.get_by_text("answered by an extract").wait_for(timeout=60_000)
    page.get_by_text("Passages the answer came from").filter(visible=True).wait_for()
    page.screenshot(path=ARTIFACTS / "console-try-the-bot.png", full_page=True)
    # The extract quotes one FAQ entry: that entry is the one passage listed (a second
    # search's other passages, the shop's address or its delivery terms, are not listed as if
    # the answer had used them).
    listed = page.get_by_text("faq.csv", exact=True).filter(visible=True)
    listed.first.wait_for(timeout=30_000)
    assert listed.count() == 1
    assert page.get_by_text("What are your opening hours?").filter(visible=True).count() == 1
    assert page.get_by_text("Lebuh Chulia").filter(visible=True).count() == 0
    page.close()


def test_staff_choose_a_model_with_evidence_and_put_it_to_work(
    browser: Any, console_server: Server, run_cli
) -> None:
    # The owner's choice: the model writes what customers read (an editor may not, #28).
    page = open_console(browser, console_server, OWNER)
    choose_bot(page, "shop")
    page.get_by_role("tab", name="Which model?").click()
    page.get_by_role("button", name="Suggest questions from the documents").click()
    page.get_by_text("suggested from its documents: check their facts").wait_for(timeout=60_000)
    page.get_by_label("extract").check()
    page.get_by_role("button", name="Evaluate").click()
    page.get_by_role("combobox", name="Candidate").click()
    page.get_by_role("option", name="extract", exact=True).click(timeout=180_000)
    # Offered once the run is done (its scores are shown), with its answers and their verdicts.
    verdicts = page.get_by_text("right", exact=True).filter(visible=True)
    verdicts.first.wait_for(timeout=30_000)
    page.screenshot(path=ARTIFACTS / "console-which-model.png", full_page=True)
    page.get_by_role("button", name="Use this model for this bot").click()
    page.get_by_text("shop now answers with extract").wait_for(timeout=30_000)
    data = console_server.log.parent
    profile = run_cli("bots", "show", "shop", "--json", data_dir=data)
    assert json.loads(profile.out)["answer_mode"] == "extract"
    # The run is kept like the command line's: both candidates, the extract showing no wrong one.
    run = json.loads(sorted((data / "evals" / "shop").glob("*.json"))[-1].read_text())
    scores = {c["candidate"]: c for c in run["candidates"]}
    assert set(scores) == {"embedded", "extract"} and scores["extract"]["wrong"] == 0
    # Runs are kept: a second one is compared with the first, and either can be opened again.
    page.get_by_role("button", name="Evaluate").click()
    page.get_by_text("Since the run of").wait_for(timeout=180_000)
    assert page.get_by_text("extract: right").count() >= 1
    page.get_by_role("combobox", name="Kept runs (newest first)").click()
    options = page.get_by_role("option").filter(has_text="extract")
    assert options.count() == 2
    options.last.click()  # the first run, which had none before it
    page.get_by_text("Since the run of").wait_for(state="hidden", timeout=30_000)
    page.close()


def test_staff_add_the_shops_website_and_see_what_each_read_changed(
    browser: Any, console_server: Server
) -> None:
    with Website() as site:
        page = open_console(browser, console_server, EDITOR)
        choose_bot(page, "shop")
        page.get_by_role("tab", name="Websites").click()
        page.get_by_label("Website address").fill(site.url)
        page.get_by_role("button", name="Read this website").click()
        page.get_by_text("4 new, 0 changed, 0 unchanged, 0 gone, 8 not read").first.wait_for(
            timeout=120_000
        )
        assert page.get_by_text("disallowed by robots.txt").count() >= 1  # each page's reason
        page.screenshot(path=ARTIFACTS / "console-websites.png", full_page=True)
        # A customer asking is answered from the page, which the answer links to.
        _, events = chat(console_server, "How much is a gas top-up?", bot="shop")
        sources = events[-1][1]["sources"]
        assert {s["url"] for s in sources} >= {f"{site.url}prices"}
        customer = browser.new_page()
        customer.goto(f"{console_server.url}/embed/shop")
        customer.get_by_role("button", name="Agree and chat").click()
        customer.locator("#message").fill("How much is a gas top-up?")
        customer.locator("#send").click()
        link = customer.locator(f'.msg.bot .sources a[href="{site.url}prices"]')
        link.wait_for(timeout=90_000)
        assert link.get_attribute("rel") == "noopener noreferrer"
        assert link.inner_text() == "Service prices"  # the page's title, linking to the page
        customer.close()
        # Read again after the shop changed a page: only that one is replaced.
        site.state.pages["/about"] = ABOUT.replace("9am to 6pm", "8am to 7pm")
        page.get_by_role("combobox", name="Website", exact=True).click()
        page.get_by_role("option", name=site.url).click()
        page.get_by_role("button", name="Read it again now").click()
        page.get_by_text("0 new, 1 changed, 3 unchanged, 0 gone").first.wait_for(timeout=120_000)
        assert page.get_by_text(f"changed: {site.url}about").count() >= 1
        page.close()


def test_a_customer_asking_for_a_person_gets_the_staff_member_who_answers_in_the_inbox(
    browser: Any, console_server: Server
) -> None:
    """The whole handoff in two browsers: the owner's console, open on another tab, tells her
    (on every tab, and as a browser notification) that a customer waits; she answers in the
    Inbox, and the customer's chat page shows it."""
    staff_browser = browser.new_context(viewport={"width": 1280, "height": 1000})
    # The operating system's notification is outside the page: the page's calls are counted.
    staff_browser.add_init_script(
        "window.__notified = [];"
        "window.Notification = class { constructor(title, options) {"
        " window.__notified.push([title, options.body]); }"
        " static get permission() { return 'granted'; }"
        " static requestPermission() { return Promise.resolve('granted'); } };"
    )
    staff = open_console(staff_browser, console_server, OWNER)
    choose_bot(staff, "shop")
    staff.get_by_role("tab", name="Inbox").click()
    staff.get_by_text("No one is waiting for a person.").wait_for(timeout=30_000)
    staff.get_by_role("tab", name="Knowledge").click()  # busy elsewhere in the console

    customer_browser = browser.new_context(
        viewport={"width": 420, "height": 760},
        extra_http_headers={"X-Forwarded-For": "198.51.100.77"},  # a customer of their own
    )
    customer = customer_browser.new_page()
    customer.goto(f"{console_server.url}/chat/shop/")
    customer.locator("#agree").click()
    customer.locator("#message").fill("can I talk to a real person?")
    customer.locator("#send").click()
    # The owner has the console open on this bot: someone will answer now.
    customer.get_by_text("I've asked a person from our team to join this chat.").wait_for(
        timeout=60_000
    )

    staff.get_by_text("1 waiting for a person (Inbox)").wait_for(timeout=30_000)
    staff.wait_for_function("window.__notified.length === 1")
    assert staff.evaluate("window.__notified[0][0]") == "A customer is waiting for a person"
    staff.get_by_role("tab", name="Inbox").click()
    staff.get_by_role("combobox", name="Conversation").click()
    staff.get_by_role("option", name="waiting for a person").first.click()
    staff.get_by_text("can I talk to a real person?").filter(visible=True).first.wait_for()
    staff.get_by_label("Your reply").fill("Hi, I'm Ana. How can I help?")
    staff.get_by_role("button", name="Send").click()
    staff.get_by_text("With a person: ana").wait_for(timeout=30_000)

    # On the customer's page, without a reload: who joined, then what they said.
    customer.get_by_text("ana joined the chat.").wait_for(timeout=10_000)
    said = customer.locator(".msg.staff").filter(has_text="Hi, I'm Ana. How can I help?")
    said.wait_for(timeout=10_000)
    assert said.locator(".who").inner_text() == "ana"
    customer.locator("#message").fill("My phone screen is cracked, can fix today?")
    customer.locator("#send").click()
    # The bot keeps quiet: the message is for Ana, and reaches her console by itself.
    staff.get_by_text("My phone screen is cracked, can fix today?").filter(
        visible=True
    ).first.wait_for(timeout=30_000)
    assert customer.locator(".msg.bot:not(.staff)").count() == 2  # the greeting, the handoff
    customer.screenshot(path=ARTIFACTS / "handoff-customer.png", full_page=True)
    staff.screenshot(path=ARTIFACTS / "handoff-inbox.png", full_page=True)

    # Back later: everything said is there again, and the bot answers once handed back.
    customer.reload()
    customer.locator(".msg.staff").filter(has_text="How can I help?").wait_for(timeout=30_000)
    staff.get_by_role("button", name="Hand back to the bot").click()
    customer.get_by_text("You're chatting with our assistant again.").wait_for(timeout=10_000)
    customer.locator("#message").fill("What are your opening hours?")
    customer.locator("#send").click()
    customer.get_by_text("Monday to Saturday").wait_for(timeout=60_000)
    customer_browser.close()
    # Measured: the handoff, and how soon a person replied, in How it is doing.
    staff.get_by_role("tab", name="How it is doing").click()
    staff.get_by_role("button", name="Refresh").filter(visible=True).first.click()
    staff.get_by_text("1 conversation handed to a person").wait_for(timeout=30_000)
    # One count of handoffs on the page: the support desk's sentence is the handoff rate's.
    headline = staff.locator("li", has_text="Handoff").filter(visible=True).first.inner_text()
    assert "1 conversation given to a person" in headline, headline
    assert staff.get_by_text("a person first replied within a minute (median of 1)").count() == 1
    staff_browser.close()


def test_an_owner_adds_a_webhook_and_sees_its_secret_once_and_an_editor_cannot(
    browser: Any, console_server: Server
) -> None:
    for who, allowed in ((EDITOR, False), (OWNER, True)):
        page = open_console(browser, console_server, who)
        choose_bot(page, "shop")
        page.get_by_role("tab", name="Inbox").click()
        page.get_by_text("Alerts: e-mail and webhooks").click()
        page.get_by_label("Webhook address (https://…)").fill("https://tools.shop.example/hook")
        page.get_by_role("button", name="Add webhook").click()
        if allowed:
            page.get_by_text("signing secret, shown this once").wait_for(timeout=30_000)
            assert page.get_by_text("whsec_").count() == 1
            page.get_by_text("https://tools.shop.example/hook").filter(
                visible=True
            ).first.wait_for()
            # Removing it asks first, naming where alerts stop going.
            page.get_by_label("Webhook #").fill("1")
            page.get_by_role("button", name="Remove webhook").click()
            page.get_by_text("Remove webhook 1").wait_for()
            asked = page.locator("p", has_text="Remove webhook 1").inner_text()
            assert "https://tools.shop.example/hook" in asked and "stop going there" in asked
            page.get_by_role("button", name="Yes, remove the webhook").click()
            page.get_by_text("Webhook 1 removed.").wait_for(timeout=30_000)
        else:
            page.get_by_text("only an owner may add a webhook").first.wait_for(timeout=30_000)
        page.close()


def test_an_owner_sets_the_whatsapp_number_and_sees_what_meta_says_of_it(
    browser: Any, console_server: Server
) -> None:
    token, secret = "EAAG-an-expired-token-1234", "0123456789abcdef0123"
    for who, allowed in ((EDITOR, False), (OWNER, True)):
        page = open_console(browser, console_server, who)
        choose_bot(page, "shop")
        page.get_by_role("tab", name="Inbox").click()
        page.get_by_text("WhatsApp: the bot on your business number").click()
        page.get_by_label("Phone number id").fill(WA_NUMBER_ID)
        page.get_by_label("Access token").fill(token)
        page.get_by_label("App secret").fill(secret)
        page.get_by_role("button", name="Save WhatsApp number").click()
        if not allowed:
            page.get_by_text("only an owner may set a bot's WhatsApp number").first.wait_for(
                timeout=30_000
            )
            page.close()
            continue
        page.get_by_text("/webhooks/whatsapp/shop").first.wait_for(timeout=30_000)
        assert "set the callback URL" in page.content()
        assert page.get_by_label("Access token").input_value() == ""  # not left in the form
        assert token not in page.content() and secret not in page.content()
        assert f"…{token[-4:]}" in page.content()
        # Saving asked Meta at once: this token is refused, in Meta's words.
        page.get_by_text("Meta refused the access token").first.wait_for(timeout=30_000)
        assert "Session has expired" in page.content()
        # The right token, typed alone: the rest is kept, and Meta accepts it.
        page.get_by_label("Access token").fill("EAAG-the-right-token-0000")
        page.get_by_role("button", name="Save WhatsApp number").click()
        page.get_by_text("Meta accepts the access token for 60 4-261 8833").first.wait_for(
            timeout=30_000
        )
        # Taking the number off the bot asks first, naming the number.
        page.get_by_role("button", name="Remove WhatsApp number").click()
        page.get_by_text(f"Remove the WhatsApp number (id {WA_NUMBER_ID}) from shop?").wait_for()
        page.get_by_role("button", name="Yes, remove the number").click()
        page.get_by_text("The bot has no WhatsApp number now.").first.wait_for(timeout=30_000)
        page.close()


# Gradio's red "Error" badges drawn over a refused event's outputs (a hidden spinner keeps one,
# transparent, in the page).
ERROR_BADGES = """() => [...document.querySelectorAll('.wrap span.error')]
  .filter(e => getComputedStyle(e.parentElement).opacity !== '0').length"""
LAPTOP, TABLET = {"width": 1366, "height": 768}, {"width": 768, "height": 1024}
# What sticks out past the right edge of the window, or of its visible table's frame.
WIDER_THAN_THE_PAGE = """() => {
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push("the page");
  for (const table of document.querySelectorAll("table")) {
    const box = table.getBoundingClientRect();
    if (!box.width || !table.checkVisibility()) continue;
    if (box.right > window.innerWidth + 1) out.push(table.innerText.slice(0, 60));
  }
  return out;
}"""


def test_each_tab_shows_its_data_when_opened_without_a_refresh(
    browser: Any, console_server: Server
) -> None:
    # Seen: Gaps, How it is doing, Conversations, Audit log and Accounts opened empty until
    # Refresh was pressed, and an owner took that for no data.
    question = "Do you sell second-hand drones in Ipoh?"
    _, events = chat(console_server, question, bot="shop", visitor="198.51.100.31")
    assert events[-1][1]["answered"] is False  # a gap
    page = open_console(browser, console_server, OWNER)
    page.set_viewport_size(LAPTOP)
    choose_bot(page, "shop")
    cut_off = []
    tabs = (
        ("Knowledge", "faq.csv", True),
        ("Inbox", "Leads", False),
        ("Try the bot", "Ask as a customer would", True),
        ("Bot settings", "/embed/shop", False),
        ("Gaps", question, True),
        ("How it is doing", "Last 30 days:", False),
        ("Which model?", "test questions", False),
        ("Conversations", question, True),
        ("Accounts", EDITOR, True),
        ("Customer data", "PDPA", False),
        ("Audit log", "logged in (login)", True),  # this very login, the newest entry
    )
    # Looked at as an owner would: on a 1366-pixel laptop, then on a tablet (where the tab bar
    # folds its last tabs into a menu: each is opened wide, then the window narrowed), with
    # nothing cut off at the side (a table wider than the page hides its last columns).
    for size in (LAPTOP, TABLET):
        for tab, shown, exact in tabs:
            page.get_by_role("tab", name=tab, exact=True).click()
            found = page.get_by_text(shown, exact=exact).filter(visible=True).first
            found.wait_for(timeout=30_000)
            slug = tab.lower().replace(" ", "-").replace("?", "")
            page.set_viewport_size(size)
            try:  # a table lays itself out again once its rows arrive: give it that time
                page.wait_for_function(f"({WIDER_THAN_THE_PAGE})().length === 0", timeout=10_000)
            except PlaywrightTimeout:
                cut_off.append((tab, size["width"], page.evaluate(WIDER_THAN_THE_PAGE)))
            page.screenshot(path=ARTIFACTS / f"console-tab-{slug}-{size['width']}.png")
            if size is TABLET:
                page.set_viewport_size(LAPTOP)
                page.reload()
                page.get_by_text(f"Logged in as {OWNER}").wait_for(timeout=60_000)
                choose_bot(page, "shop")
    page.close()
    assert cut_off == [], "\n".join(map(repr, cut_off))


def test_a_customer_rates_the_chat_and_the_owner_reads_the_outcomes_and_opens_it(
    browser: Any, console_server: Server
) -> None:
    """The customer closes with thanks and taps a face; the owner sees the rates with the
    customer's rating, and opens that conversation from the list behind them, with no id to
    paste."""
    context = browser.new_context(
        viewport={"width": 420, "height": 760},
        extra_http_headers={"X-Forwarded-For": "198.51.100.88"},
    )
    customer = context.new_page()
    customer.goto(f"{console_server.url}/chat/shop/")
    customer.locator("#agree").click()
    customer.locator("#message").fill("What are your opening hours?")
    customer.locator("#send").click()
    customer.get_by_text("Monday to Saturday").wait_for(timeout=60_000)
    customer.locator("#message").fill("thank you")
    customer.locator("#send").click()
    # Asked once, with five faces (in the conversation's language: see test_whatsapp too).
    asked = customer.locator(".msg.feedback")
    asked.get_by_text("How did we do?").wait_for(timeout=60_000)
    assert asked.locator("button").count() == 5
    asked.get_by_role("button", name="Very good").click()
    asked.get_by_text("Thanks for telling us.").wait_for(timeout=10_000)
    customer.screenshot(path=ARTIFACTS / "feedback-customer.png", full_page=True)
    context.close()

    page = open_console(browser, console_server, OWNER)
    choose_bot(page, "shop")
    page.get_by_role("tab", name="How it is doing").click()
    page.get_by_text("Automation rate").filter(visible=True).first.wait_for(timeout=60_000)
    assert page.get_by_text("CSAT 100%").filter(visible=True).count() >= 1
    # The conversations behind the figures: the confirmed one, opened with a click.
    page.get_by_label("The conversations behind the figures").click()
    page.get_by_role("option", name="resolved, confirmed").click()
    row = page.get_by_text("What are your opening hours?").filter(visible=True).first
    row.wait_for(timeout=30_000)
    row.click()
    page.locator(".turn-text").filter(has_text="Monday to Saturday").first.wait_for(timeout=30_000)
    page.screenshot(path=ARTIFACTS / "console-outcomes.png", full_page=True)
    page.close()


def test_an_owner_deletes_a_bot_in_one_place_told_what_goes_and_typing_its_name(
    browser: Any, console_server: Server
) -> None:
    page = open_console(browser, console_server, OWNER)
    create_bot(page, "Closing Down Sale", "closing-down-sale")
    page.get_by_role("tab", name="Bot settings").click()
    page.get_by_text("/embed/closing-down-sale").filter(visible=True).first.wait_for(timeout=60_000)
    page.get_by_text("Delete this bot").click()
    page.get_by_text("Deleting closing-down-sale removes for good").wait_for(timeout=30_000)
    confirm = page.get_by_label("Type the bot's name to delete it")
    confirm.fill("closing-down")
    page.get_by_role("button", name="Delete bot").click()
    page.get_by_text("Type the bot's name, closing-down-sale, to confirm").first.wait_for(
        timeout=30_000
    )
    assert httpx.get(f"{console_server.url}/api/bots/closing-down-sale/profile").status_code == 200
    confirm.fill("closing-down-sale")
    page.get_by_role("button", name="Delete bot").click()
    page.wait_for_function(
        "() => ![...document.querySelectorAll('input[aria-label=Bot]')]"
        ".some(i => i.value === 'closing-down-sale')"
    )
    assert httpx.get(f"{console_server.url}/api/bots/closing-down-sale/profile").status_code == 404
    page.close()
