"""The origin a browser request comes from, and this server's own, for the embed rules."""

from __future__ import annotations

from fastapi import Request

from chatbot.bots.origins import normalise_origin
from chatbot.web.visitors import VisitorAddress

OPAQUE = "null"  # what a sandboxed frame or a file:// page sends: allowed nowhere


def request_origin(request: Request) -> str | None:
    """The calling page's origin, None when the request is not from a browser page."""
    origin = request.headers.get("origin")
    if origin is None:
        return None
    try:
        return normalise_origin(origin)
    except ValueError:
        return OPAQUE


def server_origin(request: Request, addresses: VisitorAddress) -> str:
    """This server's origin as the browser sees it: behind a trusted TLS-terminating proxy,
    the scheme and host it forwards; otherwise the request's own."""
    scheme, host = request.url.scheme, request.headers.get("host", "")
    peer = request.client.host if request.client else None
    if addresses.is_trusted(peer):
        scheme = request.headers.get("x-forwarded-proto", scheme).split(",")[0].strip()
        host = request.headers.get("x-forwarded-host", host).split(",")[0].strip()
    try:
        return normalise_origin(f"{scheme}://{host}")
    except ValueError:
        return OPAQUE


class ForeignOrigin(Exception):
    """A browser page on a site the bot does not allow."""


def allowed_caller(request: Request, allowed: list[str], addresses: VisitorAddress) -> str | None:
    """The calling page's origin when it may call: this server's own pages or a site in
    `allowed`. None: not a browser page (a bridge, curl), which the rate limits still cover."""
    origin = request_origin(request)
    if origin is None or origin in allowed or origin == server_origin(request, addresses):
        return origin
    raise ForeignOrigin(origin)


def frame_ancestors(allowed: list[str]) -> str:
    """The CSP frame-ancestors of a bot's embed page: its allowed sites and our own pages."""
    return " ".join(["'self'", *allowed])
