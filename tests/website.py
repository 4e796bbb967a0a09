"""A small business's website served on loopback for the crawler's tests: a home page with a
menu and a footer, a price table with an ETag, pages behind a login, a redirect off the site, a
PDF, a page too big, one that never answers, one that is gone, a robots.txt and, when asked,
a sitemap. Its pages can be changed or removed between two reads."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MENU = '<nav><a href="/">Home</a> <a href="/prices">Prices</a> <a href="/about">About us</a></nav>'
FOOTER = "<footer>Follow Cool Breeze on Facebook · © 2026 Cool Breeze Sdn Bhd</footer>"


def page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>{MENU}"
        f"<main>{body}</main>{FOOTER}</body></html>"
    )


HOME = page(
    "Cool Breeze Aircon Service",
    "<h1>Cool Breeze Aircon Service</h1>"
    "<p>We clean, repair and install air conditioners across Penang island and Seberang Perai."
    " Book a technician by WhatsApp and we come to you the same week.</p>"
    '<ul><li><a href="/prices">Our prices</a></li><li><a href="/about">About us</a></li>'
    '<li><a href="/staff/roster">Staff roster</a></li><li><a href="/members">Members</a></li>'
    '<li><a href="/account">My account</a></li><li><a href="/promo">Promotion</a></li>'
    '<li><a href="/brochure.pdf">Brochure</a></li><li><a href="/catalogue">Catalogue</a></li>'
    '<li><a href="/slow">Slow page</a></li><li><a href="/old-offer">Old offer</a></li>'
    '<li><a href="/portal">Portal</a></li><li><a href="/prices#table">Price table</a></li>'
    '<li><a href="https://facebook.example/coolbreeze">Facebook</a></li></ul>',
)
PRICES = page(
    "Prices · Cool Breeze",
    "<h1>Service prices</h1><p>All prices include labour and transport on the island.</p>"
    '<table id="table"><tr><th>Service</th><th>HP</th><th>Price</th></tr>'
    "<tr><td>Chemical wash</td><td>1.0 – 1.5</td><td>RM150</td></tr>"
    "<tr><td>General service</td><td>1.0 – 2.5</td><td>RM80</td></tr>"
    "<tr><td>Gas top-up</td><td>any</td><td>RM90</td></tr></table>",
)
ABOUT = page(
    "About us",
    "<h1>About us</h1><p>Cool Breeze was started in 2009 by two brothers in Bayan Lepas. Our"
    " workshop is open Monday to Saturday from 9am to 6pm; on Sunday we only answer"
    " emergencies.</p>",
)
PROMO = page(
    "Promotion",
    "<h1>Year-end promotion</h1><p>Book two chemical washes in December and the second one is"
    " half price, RM75 instead of RM150.</p>",
)
HIDDEN = page(
    "Corporate contracts",
    "<h1>Corporate contracts</h1><p>Offices with ten units or more get a yearly contract with"
    " four services a unit for RM260 a unit.</p>",
)
LOGIN_FORM = page(
    "Portal",
    '<h1>Customer portal</h1><form method="post"><input name="user">'
    '<input type="password" name="pass"><button>Log in</button></form>',
)


@dataclass
class SiteState:
    pages: dict[str, str] = field(
        default_factory=lambda: {
            "/": HOME,
            "/prices": PRICES,
            "/about": ABOUT,
            "/promo": PROMO,
            "/hidden-offer": HIDDEN,
            "/portal": LOGIN_FORM,
        }
    )
    etags: dict[str, str] = field(default_factory=lambda: {"/prices": '"prices-v1"'})
    sitemap: list[str] | None = None  # paths listed in /sitemap.xml; None: no sitemap
    robots: str = "User-agent: *\nDisallow: /staff/\n"
    big_bytes: int = 300_000
    release_slow: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (path, headers)
    # Bodies sent as they are, with their Content-Encoding: {path: (bytes, coding)}.
    encoded: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)  # {path: Location}
    trickling: threading.Event = field(default_factory=threading.Event)  # /trickle was asked


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(
        self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self._send(302, b"", "text/html", {"Location": location})

    def do_GET(self) -> None:
        state = self.server.state
        path = self.path.split("?")[0]
        state.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
        html = "text/html; charset=utf-8"
        if path in state.redirects:
            self._redirect(state.redirects[path])
        elif path == "/robots.txt":
            self._send(200, state.robots.encode(), "text/plain")
        elif path == "/sitemap.xml" and state.sitemap is not None:
            base = f"http://{self.headers['Host']}"
            urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in state.sitemap)
            xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            self._send(200, xml.encode(), "application/xml")
        elif path == "/trickle":  # a page that answers a byte at a time, never quite stalling
            state.trickling.set()
            self.send_response(200)
            self.send_header("Content-Type", html)
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(40):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    if state.release_slow.wait(0.25):
                        return
        elif path in state.encoded:
            body, coding = state.encoded[path]
            self._send(200, body, html, {"Content-Encoding": coding})
        elif path in state.pages:
            etag = state.etags.get(path)
            if etag and self.headers.get("If-None-Match") == etag:
                self._send(304, b"", html, {"ETag": etag})
                return
            self._send(200, state.pages[path].encode(), html, {"ETag": etag} if etag else {})
        elif path == "/members":
            self._send(401, b"<h1>Members only</h1>", html, {"WWW-Authenticate": "Basic"})
        elif path == "/account":
            self._redirect("/login?next=/account")
        elif path == "/old-offer":
            self._redirect("http://offers.example/coolbreeze")
        elif path == "/brochure.pdf":
            self._send(200, b"%PDF-1.4 not really", "application/pdf")
        elif path == "/catalogue":
            self._send(200, b"<p>" + b"x" * state.big_bytes + b"</p>", html)
        elif path == "/slow":
            state.release_slow.wait(10)  # a page that does not answer in time
            with contextlib.suppress(OSError):  # (the crawler has given up on it by now)
                self._send(200, page("Slow", "<p>Too late.</p>").encode(), html)
        else:
            self._send(404, b"<h1>Not found</h1>", html)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: SiteState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class Website:
    """`with Website() as site:` then read `site.url`."""

    def __init__(self) -> None:
        self.state = SiteState()
        self._server = _Server(self.state)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Website:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.release_slow.set()
        self._server.shutdown()
        self._server.server_close()

    def requested(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.state.requests if p == path]
