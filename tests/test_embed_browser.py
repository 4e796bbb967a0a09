"""What a visitor sees of the bot on a business's own website, in headless Chromium.

Host pages are served from other loopback ports than the chat server, so they are other origins,
as a shop's website is. Screenshots are kept in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ARTIFACTS
from tests.servers import Server, start_conversation

pytestmark = pytest.mark.browser

QUESTION = "Is the shop open on Sunday?"


class HostSite:
    """A business's website on its own loopback port: a few pages, each embedding the bot."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.origin + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def site_pages(chat_url: str) -> dict[str, str]:
    head = '<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1">'
    iframe = f'<iframe id="chat" src="{chat_url}/embed/shop" style="width:400px;height:600px">'
    widget = f'<script src="{chat_url}/widget.js" data-bot="shop" defer></script>'
    return {
        "/iframe.html": f"{head}<title>Shop</title><h1>Gadget shop</h1>{iframe}</iframe>",
        "/": f'{head}<title>Home</title><h1>Home</h1><a href="/prices">Prices</a>{widget}',
        "/prices": f"{head}<title>Prices</title><h1>Prices</h1>{widget}",
    }


@pytest.fixture(scope="module")
def chat_server(embed_server: Server) -> Server:
    return embed_server


@pytest.fixture(scope="module")
def sites(chat_server: Server, run_cli, embed_shop: Path) -> Iterator[tuple[HostSite, HostSite]]:  # type: ignore[no-untyped-def]
    """The shop's own site (allowed to embed the bot) and a copycat site (not allowed)."""
    shop, copycat = HostSite(site_pages(chat_server.url)), HostSite(site_pages(chat_server.url))
    # Every browser here is the one visitor 127.0.0.1: the module's questions must fit its limit.
    allowed = run_cli(
        "bots",
        "set",
        "shop",
        f"allowed_origins={shop.origin}",
        "limits.visitor_messages_per_minute=60",
        data_dir=embed_shop,
    )
    assert allowed.code == 0, allowed.err
    yield shop, copycat
    shop.close()
    copycat.close()


def open_iframe(browser: Any, sites: tuple[HostSite, HostSite]) -> tuple[Any, Any]:
    """The shop's page with the chat in an iframe, on a desktop: the page and the chat frame."""
    page = browser.new_page(viewport={"width": 900, "height": 760})
    page.goto(sites[0].url("/iframe.html"))
    return page, page.frame_locator("#chat")


def test_a_visitor_asks_in_the_iframe_and_sees_the_answer_with_sources(
    browser: Any, sites: tuple[HostSite, HostSite]
) -> None:
    page, chat = open_iframe(browser, sites)
    assert chat.locator(".msg.bot").first.inner_text().startswith("Hello! Selamat datang!")
    chat.get_by_role("button", name="Agree and chat").click()
    chat.locator("#message").fill(QUESTION)
    chat.locator("#send").click()
    chat.locator(".msg.bot .sources").wait_for(timeout=90_000)
    answer = chat.locator(".msg.bot").nth(1).inner_text()
    # By the document's title, never its file name.
    assert "Sources:\nFAQ" in answer and "faq.csv" not in answer
    assert chat.locator(".msg.user").inner_text() == QUESTION
    chat.get_by_role("button", name="Not helpful").click()  # the visitor rates the answer
    chat.get_by_text("Thanks for telling us.").wait_for()
    assert chat.get_by_role("button", name="Not helpful").get_attribute("aria-pressed") == "true"
    page.screenshot(path=ARTIFACTS / "iframe-answer.png")
    page.close()


def test_the_launcher_opens_the_chat_and_the_conversation_follows_the_visitor_across_pages(
    browser: Any, sites: tuple[HostSite, HostSite]
) -> None:
    shop, _ = sites
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.goto(shop.url("/"))
    bubble = page.locator("[data-chatbot] .bubble")
    bubble.click()
    chat = page.frame_locator("[data-chatbot] iframe")
    chat.get_by_role("button", name="Agree and chat").click()
    chat.locator("#message").fill("Adakah kedai buka pada hari Ahad?")
    chat.locator("#message").press("Enter")
    chat.locator(".msg.bot .sources").wait_for(timeout=90_000)
    # The visitor wrote Malay: the page's own words follow.
    assert chat.locator("#message").get_attribute("placeholder") == "Taip soalan anda…"
    page.screenshot(path=ARTIFACTS / "launcher-open.png")

    page.get_by_text("Prices").click()
    page.wait_for_url(shop.url("/prices"))
    chat = page.frame_locator("[data-chatbot] iframe")  # reopened by itself on the new page
    chat.locator(".msg.user").wait_for(timeout=30_000)
    assert chat.locator("#consent").is_hidden()  # agreed once, for the whole conversation
    assert chat.locator(".msg.user").inner_text() == "Adakah kedai buka pada hari Ahad?"
    assert "Sumber:\nFAQ" in chat.locator(".msg.bot").nth(1).inner_text()
    assert chat.locator("#message").get_attribute("placeholder") == "Taip soalan anda…"
    page.screenshot(path=ARTIFACTS / "launcher-next-page.png")

    chat.locator("#close").click()  # the close button inside the frame closes the panel
    page.locator("[data-chatbot] iframe").wait_for(state="detached")
    context.close()


def test_a_site_the_bot_does_not_allow_cannot_show_it_or_chat_with_it(
    browser: Any, sites: tuple[HostSite, HostSite], chat_server: Server
) -> None:
    _, copycat = sites
    page = browser.new_page()
    page.goto(copycat.url("/iframe.html"))
    page.wait_for_load_state("load")
    # Chromium replaces a frame refused by frame-ancestors with an error page.
    frame = next(f for f in page.frames if f != page.main_frame)
    assert frame.locator("#message").count() == 0
    page.screenshot(path=ARTIFACTS / "refused-iframe.png")

    # Nor can the copycat's script talk to the chat API directly.
    outcome = page.evaluate(
        """async (url) => {
            try {
                const r = await fetch(url, {method: "POST",
                    headers: {"Content-Type": "application/json"},
                    body: JSON.stringify({message: "Is the shop open on Sunday?"})});
                return "status " + r.status;
            } catch (e) { return "refused"; }
        }""",
        f"{chat_server.url}/api/bots/shop/chat",
    )
    assert outcome == "refused"

    # And the launcher draws no bubble there.
    page.goto(copycat.url("/"))
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-chatbot]").count() == 0
    page.close()


def test_on_a_phone_the_launcher_opens_the_whole_chat_full_screen(
    browser: Any, sites: tuple[HostSite, HostSite]
) -> None:
    shop, _ = sites
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(shop.url("/"))
    page.locator("[data-chatbot] .bubble").click()
    frame = page.locator("[data-chatbot] iframe")
    chat = page.frame_locator("[data-chatbot] iframe")
    chat.locator("#agree").wait_for()  # the chat inside has loaded (is_visible does not wait)
    box = frame.bounding_box()
    assert box == {"x": 0, "y": 0, "width": 360, "height": 740}
    for part in ("#title", "#message", "#send", ".msg.bot", "#notice", "#agree"):
        assert chat.locator(part).first.is_visible()
    send = chat.locator("#send").bounding_box()
    assert send is not None and send["x"] + send["width"] <= 360 and send["y"] < 740
    page.screenshot(path=ARTIFACTS / "phone-360.png")
    context.close()


def test_the_pages_words_follow_the_language_of_each_answer(
    browser: Any, sites: tuple[HostSite, HostSite]
) -> None:
    # Seen: "Sumber:" under a Chinese answer, "来源:" under an English one (the page's words
    # followed the previous message's language).
    page, chat = open_iframe(browser, sites)
    chat.get_by_role("button", name="Agree and chat").click()
    for n, (question, label, helpful, placeholder) in enumerate(
        [
            ("Adakah kedai buka pada hari Ahad?", "Sumber:", "Membantu", "Taip soalan anda…"),
            ("你们星期天营业吗？", "来源:", "有帮助", "请输入您的问题…"),
            ("What are your opening hours?", "Sources:", "Helpful", "Type your question…"),
        ],
        start=1,
    ):
        chat.locator("#message").fill(question)
        chat.locator("#send").click()
        chat.locator(".rating").nth(n - 1).wait_for(timeout=90_000)
        answer = chat.locator(".msg.bot").nth(n)
        assert answer.locator(".sources").inner_text().startswith(label)
        assert answer.get_by_role("button", name=helpful, exact=True).count() == 1
        assert chat.locator("#message").get_attribute("placeholder") == placeholder
        assert ".csv" not in answer.inner_text() and ".pdf" not in answer.inner_text()
    page.screenshot(path=ARTIFACTS / "languages-per-answer.png")
    page.close()


def _uncovered(page: Any, parts: tuple[str, ...]) -> dict[str, bool]:
    """Whether each part of the chat in the launcher's frame can be seen and clicked where it
    is: the element itself is at its centre (not clipped by a scrolled box, not outside the
    frame or the window)."""
    frame = next(f for f in page.frames if "/embed/shop" in f.url)
    box = page.locator("[data-chatbot] iframe").bounding_box()
    assert box is not None
    found = {}
    for part in parts:
        inner = frame.locator(part).first.bounding_box()  # in the page's coordinates
        assert inner is not None, part
        x, y = inner["x"] + inner["width"] / 2, inner["y"] + inner["height"] / 2
        inside = (
            box["x"] <= x <= box["x"] + box["width"] and box["y"] <= y <= box["y"] + box["height"]
        )
        window = page.viewport_size
        inside = inside and 0 <= x <= window["width"] and 0 <= y <= window["height"]
        hit = frame.evaluate(
            """([selector, x, y]) => {
                const el = document.querySelector(selector);
                const at = document.elementFromPoint(x, y);
                return !!at && (at === el || el.contains(at));
            }""",
            [part, x - box["x"], y - box["y"]],
        )
        found[part] = inside and hit
    return found


@pytest.mark.parametrize(
    ("device", "viewport", "mobile"),
    [
        ("laptop", {"width": 1280, "height": 720}, False),
        ("phone", {"width": 360, "height": 640}, True),
    ],
)
def test_the_launchers_panel_shows_the_whole_privacy_notice_choice_and_the_message_box(
    browser: Any,
    sites: tuple[HostSite, HostSite],
    device: str,
    viewport: dict[str, int],
    mobile: bool,
) -> None:
    # Seen on a laptop: the panel opened at its smallest height and cut off the notice's second
    # choice and the message box.
    shop, _ = sites
    context = browser.new_context(viewport=viewport, is_mobile=mobile)
    page = context.new_page()
    page.goto(shop.url("/"))
    page.locator("[data-chatbot] .bubble").click()
    chat = page.frame_locator("[data-chatbot] iframe")
    chat.locator("#agree").wait_for()
    parts = ("#agree", "#agree-no-keep", "#message", "#send", "#title")
    page.wait_for_function(
        "() => document.querySelector('[data-chatbot]').shadowRoot.querySelector('iframe')"
        ".getBoundingClientRect().height > 0"
    )
    assert _uncovered(page, parts) == dict.fromkeys(parts, True)
    page.screenshot(path=ARTIFACTS / f"launcher-notice-{device}.png")
    chat.get_by_role("button", name="Agree and chat").click()
    chat.locator("#message").fill(QUESTION)
    chat.locator("#send").click()
    chat.locator(".msg.bot .sources").wait_for(timeout=90_000)
    assert _uncovered(page, ("#message", "#send")) == {"#message": True, "#send": True}
    context.close()


def test_nothing_the_visitor_types_leaves_the_page_before_they_agree_and_they_can_erase_it(
    browser: Any, sites: tuple[HostSite, HostSite], chat_server: Server
) -> None:
    shop, _ = sites
    canary = f"kanari-{uuid.uuid4().hex[:12]}"
    context = browser.new_context(viewport={"width": 900, "height": 760})
    page = context.new_page()
    sent: list[tuple[str, str]] = []
    page.on("request", lambda r: sent.append((r.url, r.post_data or "")))
    page.goto(shop.url("/iframe.html"))
    chat = page.frame_locator("#chat")
    chat.locator("#consent").wait_for()
    assert "30 days" in chat.locator("#notice").inner_text()
    assert chat.locator("#message").is_disabled()
    assert chat.locator(".suggestions button").count() == 0  # a suggestion is a question too
    page.screenshot(path=ARTIFACTS / "privacy-notice.png")

    # Text got into the box anyway (a script, an autofill) and submitted: nothing is sent.
    frame = next(f for f in page.frames if "/embed/shop" in f.url)
    frame.evaluate(
        """(text) => {
            const box = document.getElementById("message");
            box.value = text;
            document.getElementById("composer").requestSubmit();
            box.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true}));
        }""",
        f"Is the shop open on Sunday? {canary}",
    )
    page.wait_for_load_state("networkidle")
    assert not [url for url, body in sent if canary in url or canary in body]

    chat.get_by_role("button", name="Agree and chat").click()
    chat.locator("#message").fill(f"Is the shop open on Sunday? {canary}")
    chat.locator("#message").press("Enter")
    chat.locator(".rating").wait_for(timeout=90_000)
    consent_at = next(i for i, (url, _) in enumerate(sent) if url.endswith("/consent"))
    carrying = [i for i, (url, body) in enumerate(sent) if canary in url or canary in body]
    assert carrying and min(carrying) > consent_at

    # The visitor deletes the conversation from the chat: it is gone from the server too.
    conversation = frame.evaluate("localStorage.getItem('chatbot:shop:conversation')")
    assert re.fullmatch(r"[0-9a-f]{32}", conversation)
    # The reference the customer quotes to the business to ask for a copy or an erasure.
    assert chat.locator("#reference").inner_text() == f"Conversation reference: {conversation}"
    chat.get_by_role("button", name="Delete this conversation").first.click()
    chat.locator(".confirm").get_by_role("button", name="Delete this conversation").click()
    chat.get_by_text("Your conversation has been deleted.").wait_for()
    page.screenshot(path=ARTIFACTS / "privacy-erased.png")
    gone = httpx.get(f"{chat_server.url}/api/bots/shop/conversations/{conversation}")
    assert gone.status_code == 404
    context.close()


@pytest.mark.parametrize("page_path", ["/embed/shop", "/chat/shop/"])
def test_a_link_cannot_put_a_visitor_into_someone_elses_conversation(
    browser: Any, chat_server: Server, page_path: str
) -> None:
    """A link's author starts a conversation, then sends the link with its id to a victim:
    the victim must see the notice, agree themselves, and chat in a conversation of their own."""
    trap = start_conversation(chat_server, bot="shop", headers={"X-Forwarded-For": "192.0.2.66"})
    context = browser.new_context(viewport={"width": 900, "height": 760})
    page = context.new_page()
    page.goto(f"{chat_server.url}{page_path}?conversation={trap}")
    page.locator("#consent").wait_for()  # the notice, not skipped
    assert page.locator("#message").is_disabled()
    page.get_by_role("button", name="Agree and chat").click()
    page.locator("#message").fill("Is the shop open on Sunday? My phone is 012-345 6789.")
    page.locator("#message").press("Enter")
    page.locator(".msg.bot .sources").wait_for(timeout=90_000)
    kept = page.evaluate("localStorage.getItem('chatbot:shop:conversation')")
    assert kept and kept != trap
    read = httpx.get(f"{chat_server.url}/api/bots/shop/conversations/{trap}")
    assert read.status_code == 200 and read.json()["turns"] == []  # the author reads nothing
    context.close()


def test_a_link_in_an_answer_ends_where_the_address_ends(
    browser: Any, sites: tuple[HostSite, HostSite], run_cli, embed_shop: Path
) -> None:  # type: ignore[no-untyped-def]
    # Seen: the fallback's WhatsApp link took the comma after it (wa.me/60123456789,).
    contact = ["whatsapp=+60123456789", "email=help@gadgetcare.example"]
    assert run_cli("bots", "set", "shop", *contact, data_dir=embed_shop).code == 0
    try:
        page, chat = open_iframe(browser, sites)
        chat.get_by_role("button", name="Agree and chat").click()
        chat.locator("#message").fill("Siapakah perdana menteri pertama negara Jepun?")
        chat.locator("#send").click()
        link = chat.locator('.msg.bot a[href*="wa.me"]')
        link.wait_for(timeout=90_000)
        assert link.get_attribute("href") == "https://wa.me/60123456789"
        assert link.inner_text() == "https://wa.me/60123456789"
        assert (
            "60123456789, e-mel help@gadgetcare.example"
            in chat.locator(".msg.bot").last.inner_text()
        )
        page.close()
    finally:
        cleared = run_cli("bots", "set", "shop", "whatsapp=", "email=", data_dir=embed_shop)
        assert cleared.code == 0, cleared.err
