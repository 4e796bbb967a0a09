"""One read of a website: its pages found through its sitemap (or, without one, through the links
within the site), robots.txt honoured, at a polite pace, within limits on pages, depth, bytes and
time; each page fetched with the validators of its last read (ETag, Last-Modified), so an
unchanged page costs a 304; every page that is not read says why."""

from __future__ import annotations

import re
import time
import urllib.robotparser
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx

from knowledge.crawl.decoding import BoundedDecoder, TooBig, Undecodable
from knowledge.crawl.guard import RefusedAddress, guarded_client
from knowledge.errors import KnowledgeError

USER_AGENT = "chatbot-crawler/1 (the business's own support bot, reading its website)"
_HTML = ("text/html", "application/xhtml+xml")
_LOGIN = re.compile(r"/(log-?in|sign-?in|auth|account/login|wp-login\.php)\b", re.IGNORECASE)
_PASSWORD_FIELD = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password", re.IGNORECASE)
_MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_SITEMAPS = 20
# The sitemap protocol allows 50 MB uncompressed: a sitemap is read up to that, not to the
# page limit.
_MAX_SITEMAP_BYTES = 50 * 1024 * 1024
# robots.txt may ask for any delay between requests; more than this would let a site make a
# read last for days (the time limit still ends a read).
_MAX_CRAWL_DELAY_S = 10.0
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _OutOfTime(Exception):
    """The read's time limit has come (raised where waiting or reading would pass it)."""


class SiteError(KnowledgeError):
    """The site as a whole cannot be read (an address refused, robots.txt unreadable); the
    message says why, in one line."""


@dataclass(frozen=True, slots=True)
class CrawlLimits:
    max_pages: int = 200
    max_depth: int = 3
    max_page_bytes: int = 5_000_000
    max_total_s: float = 900.0
    pace_s: float = 1.0  # between two requests to the site (more if robots.txt asks)
    timeout_s: float = 20.0
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class Validators:
    """What a page's last read answered, to ask the next time whether it changed."""

    etag: str | None = None
    last_modified: str | None = None


Outcome = Literal["fetched", "unchanged", "gone", "skipped"]


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    outcome: Outcome
    reason: str = ""  # why it was skipped or is gone
    html: bytes = b""
    validators: Validators = field(default_factory=Validators)


def site_root(address: str) -> str:
    """The site's address as kept: scheme, host and path, no query or fragment; only http(s)."""
    parts = urlsplit(address.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SiteError(f"{address!r} is not a website address (http:// or https://)")
    path = parts.path or "/"
    return f"{parts.scheme}://{parts.netloc.lower()}{path}"


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host (with or without "www.") and port: what a site is."""
    parts = urlsplit(url)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a port out of range or not a number: on no site
        return ("", "", None)
    return parts.scheme, (parts.hostname or "").lower().removeprefix("www."), port


def _same_site(url: str, root: str) -> bool:
    """Whether `url` is on the site of `root`: the same scheme, host and port. The one change
    allowed is the common move from http to https on the standard ports; another port of the
    same host is another server (an intranet's admin service beside its website)."""
    scheme, host, port = _origin(url)
    root_scheme, root_host, root_port = _origin(root)
    if scheme not in ("http", "https") or host != root_host:
        return False
    if (scheme, port) == (root_scheme, root_port):
        return True
    return (root_scheme, root_port, scheme, port) == ("http", 80, "https", 443)


def _unreachable(exc: httpx.HTTPError) -> str:
    """Why a request got no answer, in words (httpx's own messages are for programmers)."""
    if isinstance(exc, httpx.ConnectError):
        return "the server could not be reached (no such site, or it refused the connection)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server broke off its answer"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "the address is not a web page (http:// or https://)"
    return "the server could not be reached"


def _clean(url: str) -> str:
    return urldefrag(url)[0]


class SiteCrawl:
    """`pages()` yields each page's outcome, in the order read. `known`: the pages of the last
    read with their validators; those no longer linked are asked for again at the end, so a
    vanished one is known to be gone (404, 410) rather than guessed."""

    def __init__(
        self,
        root: str,
        limits: CrawlLimits,
        known: dict[str, Validators] | None = None,
        *,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.root = site_root(root)
        self.limits = limits
        self.known = dict(known or {})
        self.user_agent = user_agent
        self._sleep = sleep
        self._client = guarded_client(
            allow_private=limits.allow_private, timeout_s=limits.timeout_s, user_agent=user_agent
        )
        self._last_request = 0.0
        self._pace = limits.pace_s
        self._deadline = float("inf")  # set when a read begins (pages())
        self.stopped_by = ""  # the limit that ended the read early, if one did
        self.used_sitemap = False

    def close(self) -> None:
        self._client.close()

    # -- requests --------------------------------------------------------------------------

    def _wait_turn(self) -> None:
        now = time.monotonic()
        wait = self._last_request + self._pace - now
        if now + max(wait, 0) > self._deadline:
            raise _OutOfTime
        if wait > 0:
            self._sleep(wait)
        self._last_request = time.monotonic()

    def _get(
        self, url: str, headers: dict[str, str] | None = None, limit: int | None = None
    ) -> tuple[httpx.Response, bytes, bool]:
        """One GET at the site's pace: the response, its body decoded up to the byte limit (the
        page limit unless given), and whether that is the whole body (False: bigger than the
        limit). Decoded here, with the limit on the bytes out (decoding.py): httpx would
        inflate a compressed body whole first. Raises Undecodable; httpx.ReadTimeout when the
        whole response takes longer than the timeout (httpx's own is per read: a byte every
        few seconds kept a page open for ever); _OutOfTime at the read's time limit."""
        self._wait_turn()
        limit = self.limits.max_page_bytes if limit is None else limit
        page_deadline = time.monotonic() + self.limits.timeout_s
        with self._client.stream("GET", url, headers=headers or {}) as response:
            body = bytearray()
            if response.status_code != 200:
                return response, b"", True
            decoder = BoundedDecoder(response.headers.get("content-encoding", ""), limit)
            try:
                for piece in response.iter_raw():
                    body += decoder.feed(piece)
                    if len(body) > limit:
                        return response, bytes(body[:limit]), False
                    now = time.monotonic()
                    if now > min(page_deadline, self._deadline):
                        if now > self._deadline:
                            raise _OutOfTime
                        raise httpx.ReadTimeout(f"no whole answer in {self.limits.timeout_s:g} s")
            except TooBig:
                return response, bytes(body[:limit]), False
            decoder.finish()
            return response, bytes(body), True

    # -- robots.txt and sitemaps -----------------------------------------------------------

    def _robots(self) -> urllib.robotparser.RobotFileParser:
        robots = urllib.robotparser.RobotFileParser()
        url = urljoin(self.root, "/robots.txt")
        try:
            # A robots.txt too big: its first part (RFC 9309). Behind redirects (http to https
            # most often): followed, up to five, on the site (RFC 9309 2.3.1.2).
            for _ in range(_MAX_REDIRECTS + 1):
                response, body, _ = self._get(url)
                target = _clean(urljoin(url, response.headers.get("location", "")))
                if response.status_code not in _REDIRECTS or target == url:
                    break
                if not _same_site(target, self.root):
                    break  # robots.txt off the site: none (RFC 9309: as if unavailable)
                url = target
        except (RefusedAddress, Undecodable) as exc:
            raise SiteError(f"{url}: {exc}" if isinstance(exc, Undecodable) else str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise SiteError(f"{self.root} timed out after {self.limits.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise SiteError(f"{self.root}: {_unreachable(exc)}") from exc
        if response.status_code >= 500:
            # RFC 9309: a server error on robots.txt means the whole site is off limits for now.
            raise SiteError(
                f"{url} answered HTTP {response.status_code}: nothing read, try again later"
            )
        robots.parse(
            body.decode("utf-8", "replace").splitlines() if response.status_code == 200 else []
        )
        delay = robots.crawl_delay(self.user_agent)
        if delay:
            try:
                asked = float(delay)
            except (OverflowError, ValueError):
                asked = _MAX_CRAWL_DELAY_S
            self._pace = max(self._pace, min(asked, _MAX_CRAWL_DELAY_S))
        return robots

    def _sitemap_pages(self, robots: urllib.robotparser.RobotFileParser) -> list[str]:
        from lxml import etree

        queue = deque(robots.site_maps() or [urljoin(self.root, "/sitemap.xml")])
        seen: set[str] = set()
        pages: list[str] = []
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        while queue and len(seen) < _MAX_SITEMAPS:
            url = queue.popleft()
            if url in seen or not _same_site(url, self.root):
                continue
            seen.add(url)
            try:
                response, body, whole = self._get(url, limit=_MAX_SITEMAP_BYTES)
                if response.status_code != 200 or not body or not whole:
                    continue
                tree = etree.fromstring(body, parser)
            except (httpx.HTTPError, RefusedAddress, etree.XMLSyntaxError, ValueError):
                continue  # no usable sitemap there: links are followed instead
            for loc in tree.iter("{*}loc"):
                found = _clean((loc.text or "").strip())
                if etree.QName(loc.getparent()).localname == "sitemap":
                    queue.append(found)
                elif _same_site(found, self.root) and found.startswith(self.root):
                    pages.append(found)
        return list(dict.fromkeys(pages))

    # -- pages -----------------------------------------------------------------------------

    def _fetch(self, url: str) -> tuple[Page, str]:
        """The page's outcome, and the address it was read at (after redirects)."""
        known = self.known.get(url, Validators())
        headers = {}
        if known.etag:
            headers["If-None-Match"] = known.etag
        if known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        at = url
        for _ in range(_MAX_REDIRECTS + 1):
            try:
                response, body, whole = self._get(at, headers)
            except (RefusedAddress, Undecodable) as exc:
                return Page(url, "skipped", str(exc)), at
            except httpx.TimeoutException:
                return Page(url, "skipped", f"timed out after {self.limits.timeout_s:g} s"), at
            except httpx.HTTPError as exc:
                return Page(url, "skipped", _unreachable(exc)), at
            # (Not `response.is_redirect`: httpx counts a 304 Not Modified among redirects.)
            if response.status_code in _REDIRECTS and "location" in response.headers:
                target = _clean(urljoin(at, response.headers.get("location", "")))
                if _LOGIN.search(urlsplit(target).path):
                    return Page(url, "skipped", "behind a login (it redirects to one)"), at
                if not _same_site(target, self.root):
                    return Page(url, "skipped", f"redirected off the site, to {target}"), at
                at = target
                continue
            break
        else:
            return Page(url, "skipped", f"redirected more than {_MAX_REDIRECTS} times"), at
        status = response.status_code
        validators = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
        if status == 304:
            return Page(url, "unchanged", validators=known), at
        if status in (404, 410):
            return Page(url, "gone", f"HTTP {status}"), at
        if status in (401, 403):
            return Page(url, "skipped", f"behind a login (HTTP {status})"), at
        if status != 200:
            return Page(url, "skipped", f"the server answered HTTP {status}"), at
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in _HTML:
            return Page(url, "skipped", f"not HTML ({kind or 'no content type'})"), at
        if not whole:
            limit = self.limits.max_page_bytes / 1e6
            return Page(url, "skipped", f"too big (over {limit:g} MB)"), at
        if _PASSWORD_FIELD.search(body):
            return Page(url, "skipped", "behind a login (it asks for a password)"), at
        return Page(url, "fetched", html=body, validators=validators), at

    def _links(self, page_url: str, html: bytes) -> list[str]:
        import lxml.html

        try:
            tree = lxml.html.fromstring(html, base_url=page_url)
        except (ValueError, lxml.etree.ParserError):
            return []
        tree.make_links_absolute(page_url, resolve_base_href=True)
        found = []
        for element in tree.iter("a"):
            href = _clean(element.get("href") or "")
            if href and _same_site(href, self.root) and href.startswith(self.root):
                found.append(href)
        return found

    def pages(self) -> Iterator[Page]:
        """Every page's outcome, in the order read, until the site or a limit ends the read."""
        self._deadline = time.monotonic() + self.limits.max_total_s
        try:
            yield from self._pages()
        except _OutOfTime:
            self.stopped_by = f"the time limit of {self.limits.max_total_s:g} s"

    def _pages(self) -> Iterator[Page]:
        robots = self._robots()
        listed = self._sitemap_pages(robots)
        self.used_sitemap = bool(listed)
        queue: deque[tuple[str, int]] = deque([(self.root, 0)] + [(u, 0) for u in listed])
        queued = {u for u, _ in queue}
        read = 0
        revisit = [u for u in self.known if u not in queued]  # asked again at the end
        while queue or revisit:
            if not queue:
                url, depth = revisit.pop(0), self.limits.max_depth  # (no links followed)
                if url in queued:
                    continue
                queued.add(url)
            else:
                url, depth = queue.popleft()
            if read >= self.limits.max_pages:
                self.stopped_by = f"the limit of {self.limits.max_pages} pages"
                return
            if time.monotonic() > self._deadline:
                self.stopped_by = f"the time limit of {self.limits.max_total_s:g} s"
                return
            if not robots.can_fetch(self.user_agent, url):
                yield Page(url, "skipped", "disallowed by robots.txt")
                continue
            page, at = self._fetch(url)
            read += 1
            yield page
            if (
                page.outcome == "fetched"
                and not self.used_sitemap
                and depth < self.limits.max_depth
            ):
                for link in self._links(at, page.html):
                    if link not in queued:
                        queued.add(link)
                        queue.append((link, depth + 1))
