"""A business's website read into its bot (#19), for real: a small site served on loopback by the
tests (tests/website.py), read by `chatbot ingest https://...` and `chatbot sites`, asked as a
customer would; the address guard refusing the server's own network with the setting off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from knowledge.crawl.guard import RefusedAddress, guarded_client
from knowledge.crawl.site import CrawlLimits, Page, SiteCrawl
from tests.website import ABOUT, Website, page

# The site is on loopback, so it is read as an intranet site; fast, for the tests.
INTRANET = {
    "CHATBOT_CRAWL__ALLOW_PRIVATE_ADDRESSES": "true",
    "CHATBOT_CRAWL__PACE_S": "0",
    # Long enough that a page of the loopback site answers in time on a busy machine (at 1 s,
    # /prices once timed out under the full suite's load); /slow holds on for 10 s.
    "CHATBOT_CRAWL__TIMEOUT_S": "3",
    "CHATBOT_CRAWL__MAX_PAGE_MB": "0.1",
}
EXTRACT = {"CHATBOT_ANSWERING__MODE": "extract"}


@pytest.fixture
def site() -> Iterator[Website]:
    with Website() as served:
        yield served


def read(run_cli, data: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return run_cli(*args, data_dir=data, env={**INTRANET, **(env or {})})


def lines(out: str, prefix: str) -> dict[str, str]:
    """`prefix URL: why` lines as {path: why}; `prefix URL` lines as {path: ""}."""
    found = {}
    for line in out.splitlines():
        if line.startswith(prefix):
            address, _, why = line[len(prefix) :].partition(": ")
            found["/" + address.split("/", 3)[3]] = why
    return found


def ask(run_cli, data: Path, question: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    result = read(run_cli, data, "ask", "--bot", "aircon", "--json", question, env=EXTRACT)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_a_website_is_read_page_by_page_and_answers_link_to_the_page(
    run_cli, site: Website, tmp_path: Path
) -> None:
    result = read(run_cli, tmp_path, "ingest", "--bot", "aircon", site.url)
    assert result.code == 0, result.err
    assert set(lines(result.out, "new: ")) == {"/", "/prices", "/about", "/promo"}
    answer = ask(run_cli, tmp_path, "How much is a chemical wash?")
    assert answer["answered"] and "RM150" in str(answer["answer"])
    [source] = [s for s in answer["sources"] if "RM150" in s["text"]]  # type: ignore[attr-defined]
    assert source["url"] == f"{site.url}prices" and source["title"] == "Service prices"
    # The page's main text, not its menu or footer.
    docs = read(run_cli, tmp_path, "docs", "--bot", "aircon", "--json").json_lines()[0]
    assert {d["source"] for d in docs} == {site.url + p for p in ("", "prices", "about", "promo")}
    found = read(run_cli, tmp_path, "search", "--bot", "aircon", "--json", "Facebook Sdn Bhd")
    assert not any("Facebook" in h["text"] for h in found.json_lines()[0]["hits"])


def test_every_page_that_is_not_read_says_why(run_cli, site: Website, tmp_path: Path) -> None:
    result = read(run_cli, tmp_path, "ingest", "--bot", "aircon", site.url)
    assert lines(result.out, "not read: ") == {
        "/staff/roster": "disallowed by robots.txt",
        "/members": "behind a login (HTTP 401)",
        "/account": "behind a login (it redirects to one)",
        "/portal": "behind a login (it asks for a password)",
        "/old-offer": "redirected off the site, to http://offers.example/coolbreeze",
        "/brochure.pdf": "not HTML (application/pdf)",
        "/catalogue": "too big (over 0.1 MB)",
        "/slow": "timed out after 3 s",
    }
    assert not site.requested("/staff/roster")  # robots.txt is honoured, not just reported
    assert len(site.requested("/prices")) == 1  # "/prices#table" is the same page
    assert not [p for p, _ in site.state.requests if "facebook" in p]  # other sites: not followed


def test_reading_again_skips_what_is_unchanged_replaces_what_changed_and_forgets_what_went(
    run_cli, site: Website, tmp_path: Path
) -> None:
    assert read(run_cli, tmp_path, "ingest", "--bot", "aircon", site.url).code == 0
    site.state.pages["/about"] = ABOUT.replace("9am to 6pm", "8am to 7pm")
    del site.state.pages["/promo"]  # the promotion is over: the page is gone (404)
    # A page whose markup changes but not its text (a new session token) is not "changed".
    site.state.pages["/"] = site.state.pages["/"].replace("</body>", "<!-- token 81723 --></body>")
    again = read(run_cli, tmp_path, "sites", "read", "--bot", "aircon")
    assert again.code == 0, again.err
    assert f"{site.url}: 0 new, 1 changed, 2 unchanged, 1 gone" in again.out
    assert set(lines(again.out, "changed: ")) == {"/about"}
    assert set(lines(again.out, "gone: ")) == {"/promo"}
    # The price page was asked with its ETag and answered 304: not fetched again.
    assert site.requested("/prices")[-1]["if-none-match"] == '"prices-v1"'
    hours = ask(run_cli, tmp_path, "When is the workshop open?")
    assert "8am to 7pm" in str(hours["answer"])
    promo = ask(run_cli, tmp_path, "Is there a year-end promotion on chemical washes?")
    assert "RM75" not in str(promo["answer"])
    listed = read(run_cli, tmp_path, "sites", "list", "--bot", "aircon", "--json")
    [kept] = listed.json_lines()[0]
    assert kept["root"] == site.url and kept["every_hours"] == 24
    assert kept["last_report"]["changed"] == [f"{site.url}about"]


def test_a_sitemap_is_read_instead_of_following_links(
    run_cli, site: Website, tmp_path: Path
) -> None:
    site.state.sitemap = ["/prices", "/hidden-offer"]  # not linked from any page
    result = read(run_cli, tmp_path, "ingest", "--bot", "aircon", site.url)
    assert set(lines(result.out, "new: ")) == {"/", "/prices", "/hidden-offer"}
    answer = ask(run_cli, tmp_path, "How much is a corporate contract?")
    assert "RM260" in str(answer["answer"])


def test_the_servers_own_network_is_refused_by_default(
    run_cli, site: Website, tmp_path: Path
) -> None:
    for address in (site.url, f"http://localhost:{site.port}/"):
        result = run_cli("ingest", "--bot", "aircon", address, data_dir=tmp_path)
        assert result.code == 1
        [line] = result.out.splitlines()
        assert line.startswith(f"not read: {address}: ")
        assert (
            "is a loopback address; crawl.allow_private_addresses allows an intranet site" in line
        )
    assert not site.state.requests  # refused before any connection
    listed = run_cli("sites", "list", "--bot", "aircon", data_dir=tmp_path)
    assert "reads no website" in listed.out  # a site refused is not kept


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local address (where clouds serve"),
        ("http://[fd00:ec2::254]/", "link-local address (where clouds serve"),
        ("http://10.1.2.3/", "a private address"),
        ("http://[::ffff:127.0.0.1]/", "a loopback address"),
        ("http://0.0.0.0/", "not an address a website has"),
    ],
)
def test_the_guard_refuses_each_kind_of_address_before_connecting(address: str, why: str) -> None:
    # Cloud metadata stays refused for an intranet site too.
    allow = "link-local" in why
    client = guarded_client(allow_private=allow, timeout_s=1, user_agent="test")
    with client, pytest.raises(RefusedAddress, match=why.replace("(", r"\(")):
        client.get(address)


def test_a_page_with_no_main_text_is_said_so(run_cli, site: Website, tmp_path: Path) -> None:
    site.state.pages["/prices"] = page("Prices", "<script>load()</script>")
    result = read(run_cli, tmp_path, "ingest", "--bot", "aircon", site.url)
    assert lines(result.out, "not read: ")["/prices"] == (
        "the page has no main text (only menus, forms or scripts)"
    )


def test_the_server_reads_each_site_again_when_it_is_due(
    run_cli, site: Website, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The schedule that `chatbot serve` runs (every crawl.schedule_check_s), run here at the
    # moment a day has passed: no waiting on a clock.
    import time

    from chatbot.actions.websites import WebsiteSchedule
    from chatbot.services import Services
    from chatbot.settings import load_settings

    assert read(run_cli, tmp_path, "ingest", "--bot", "aircon", site.url).code == 0
    site.state.pages["/about"] = ABOUT.replace("9am to 6pm", "8am to 7pm")
    for name, value in INTRANET.items():
        monkeypatch.setenv(name, value)
    services = Services(load_settings(data_dir=tmp_path))
    try:
        schedule = WebsiteSchedule(services, check_every_s=600)
        assert schedule.run_once() == []  # read a moment ago: not due
        [due] = schedule.run_once(now=time.time() + 24 * 3600 + 1)
        assert due.root == site.url
        [kept] = services.websites.of_bot("aircon")
        assert kept.last_report is not None and kept.last_report["changed"] == [f"{site.url}about"]
        reads = [e for e in services.audit.entries(10) if e.action == "knowledge.website"]
        assert reads[0].actor == "system:schedule"  # newest first
    finally:
        services.close()
    # Staff may have it read only when they ask.
    every = read(run_cli, tmp_path, "sites", "every", site.url, "0", "--bot", "aircon")
    assert every.code == 0 and f"{site.url} is read again only when asked" in every.out
    bad = read(run_cli, tmp_path, "sites", "every", site.url, "100000", "--bot", "aircon")
    assert bad.code == 1 and "read it again every 0 (only when asked)" in bad.err
    services = Services(load_settings(data_dir=tmp_path))
    try:
        assert WebsiteSchedule(services, 600).run_once(now=time.time() + 10 * 365 * 86400) == []
    finally:
        services.close()


def crawled(site: Website, sleep: Any = None, **limits: Any) -> tuple[dict[str, Page], SiteCrawl]:
    """Every page of a read of `site` by the crawler itself (in this process), by path, and
    the crawl (what stopped it); limits beyond the loopback site's own given by name."""
    from urllib.parse import urlsplit

    chosen = {"pace_s": 0, "timeout_s": 10, "allow_private": True, **limits}
    crawl = SiteCrawl(site.url, CrawlLimits(**chosen), **({"sleep": sleep} if sleep else {}))
    try:
        return {urlsplit(p.url).path: p for p in crawl.pages()}, crawl
    finally:
        crawl.close()


def test_a_compressed_page_is_stopped_at_the_size_limit_not_inflated_whole(site: Website) -> None:
    """A few kilobytes sent compressed can stand for a gigabyte; the crawler decodes no more
    than its page limit of any of them, whatever the coding or how many times it is applied."""
    import gzip
    import tracemalloc
    import zlib

    import brotli
    import zstandard

    inflated = b"<html><body><p>" + b"a" * (64 * 1024 * 1024) + b"</p></body></html>"
    site.state.encoded = {
        "/br": (brotli.compress(inflated, quality=1), "br"),
        "/zstd": (zstandard.ZstdCompressor(level=1).compress(inflated), "zstd"),
        "/gzip-twice": (gzip.compress(gzip.compress(inflated, 1)), "gzip, gzip"),
        "/deflate": (zlib.compress(inflated, 1), "deflate"),
        "/old-unix": (b"\x1f\x9d not really", "compress"),
        "/damaged": (b"\x1f\x8b\x08\x00 damaged", "gzip"),
        "/fine": (gzip.compress(ABOUT.encode()), "gzip"),
    }
    del inflated
    site.state.sitemap = list(site.state.encoded)
    tracemalloc.start()
    try:
        read, _ = crawled(site, max_page_bytes=100_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    for path in ("/br", "/zstd", "/gzip-twice", "/deflate"):
        assert (read[path].outcome, read[path].reason) == ("skipped", "too big (over 0.1 MB)")
    assert peak < 16 * 1024 * 1024, f"{peak / 1e6:.0f} MB held while reading the site"
    assert (
        read["/old-unix"].reason == "it is compressed as 'compress', which this reader cannot undo"
    )
    assert read["/damaged"].reason == "its compressed bytes are damaged or cut short"
    assert read["/fine"].outcome == "fetched" and b"two brothers" in read["/fine"].html


def test_a_site_is_its_scheme_host_and_port_and_nothing_off_it_is_fetched(site: Website) -> None:
    """With private addresses allowed (an intranet site), another port of the same host is
    another server: neither a redirect nor robots.txt's Sitemap line reaches it."""
    with Website() as internal:
        internal.state.pages["/internal-secret"] = page("Admin", "<p>Root password hunter2</p>")
        internal.state.sitemap = ["/internal-secret"]
        elsewhere = internal.url.rstrip("/")
        site.state.robots = f"User-agent: *\nSitemap: {elsewhere}/sitemap.xml\n"
        site.state.redirects = {"/moved": f"{elsewhere}/internal-secret"}
        site.state.pages["/"] = page(
            "Home", '<a href="/moved">Moved</a> <a href="/about">About</a>'
        )
        read, _ = crawled(site)
        assert internal.state.requests == [], "the other port was asked"
    assert read["/moved"].outcome == "skipped"
    assert read["/moved"].reason == f"redirected off the site, to {elsewhere}/internal-secret"
    assert read["/about"].outcome == "fetched"


def test_a_read_keeps_to_its_time_limits_whatever_the_site_sends(site: Website) -> None:
    """A page that sends a byte now and then is given up at the page timeout, not kept open by
    each byte; robots.txt asking for an absurd delay between requests gets a capped one, and
    the read's own time limit ends the read."""
    site.state.pages["/"] = page("Home", '<a href="/trickle">Slow</a> <a href="/about">About</a>')
    read, _ = crawled(site, timeout_s=1)
    assert (read["/trickle"].outcome, read["/trickle"].reason) == (
        "skipped",
        "timed out after 1 s",
    )
    assert read["/about"].outcome == "fetched"

    site.state.pages["/"] = page("Home", '<a href="/about">About</a>')
    site.state.robots = "User-agent: *\nCrawl-delay: 99999999999999999999\n"
    waits: list[float] = []
    read, _ = crawled(site, sleep=waits.append, timeout_s=5, max_total_s=60)  # noted, not slept
    assert read["/"].outcome == "fetched"
    assert waits and max(waits) <= 10, waits
    read, crawl = crawled(site, sleep=waits.append, timeout_s=5, max_total_s=5)
    assert crawl.stopped_by == "the time limit of 5 s", (crawl.stopped_by, read)


def test_robots_txt_behind_a_redirect_is_followed(site: Website) -> None:
    site.state.redirects = {"/robots.txt": "/robots-2026.txt"}
    site.state.pages["/robots-2026.txt"] = "User-agent: *\nDisallow: /about\n"
    read, _ = crawled(site)
    assert read["/about"].reason == "disallowed by robots.txt"
