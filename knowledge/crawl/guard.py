"""Server-side request forgery stopped where the connection is made: every address a host name
resolves to is checked before the socket connects to it, for the first request and for every
redirect alike, so neither a link, a redirect nor a DNS answer that changes between a check and
a connection (rebinding) can point the crawler at the server's own network.

By default only global addresses are reached. `allow_private=True` (the setting
`crawl.allow_private_addresses`, for an intranet site) also allows loopback and private ranges;
link-local addresses, where clouds serve their metadata and credentials, are never reached."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import httpcore
import httpx

# Where cloud providers answer with instance credentials (AWS, GCP, Azure, Oracle: 169.254.169.254;
# AWS over IPv6): refused even for an intranet site.
_METADATA = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"),
             ipaddress.ip_network("fd00:ec2::254/128"))  # fmt: skip


class RefusedAddress(Exception):
    """The host resolves to an address the crawler must not reach; the message says which."""


def refusal(address: str, *, allow_private: bool) -> str | None:
    """Why the crawler may not reach `address` (None: it may), with the setting that would
    allow it where one does."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in net for net in _METADATA):
        return "a link-local address (where clouds serve instance metadata)"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return "not an address a website has"
    if ip.is_global or allow_private:
        return None
    what = "a loopback address" if ip.is_loopback else "a private address"
    return f"{what}; crawl.allow_private_addresses allows an intranet site"


def check_host(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses `host` resolves to, all allowed, or RefusedAddress naming the first not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpx.ConnectError(f"{host} does not resolve ({exc})") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        why = refusal(address, allow_private=allow_private)
        if why is not None:
            shown = host if host == address else f"{host} ({address})"
            raise RefusedAddress(f"{shown} is {why}")
    return addresses


class _GuardedBackend(httpcore.SyncBackend):
    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        addresses = check_host(host, port, allow_private=self.allow_private)
        # The socket goes to an address just checked, not to a second lookup's answer; TLS
        # still names the host (httpcore passes the origin's name for SNI and certificates).
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with its connections made through the address check."""

    def __init__(self, *, allow_private: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        pool = self._pool
        self._pool = httpcore.ConnectionPool(
            ssl_context=pool._ssl_context,
            max_connections=pool._max_connections,
            max_keepalive_connections=pool._max_keepalive_connections,
            keepalive_expiry=pool._keepalive_expiry,
            http1=pool._http1,
            http2=pool._http2,
            network_backend=_GuardedBackend(allow_private),
        )


def guarded_client(*, allow_private: bool, timeout_s: float, user_agent: str) -> httpx.Client:
    """A client that reaches only allowed addresses, follows no redirect by itself (the crawler
    follows each one, so it can say where a page went), and ignores proxy variables."""
    return httpx.Client(
        transport=GuardedTransport(allow_private=allow_private),
        timeout=timeout_s,
        follow_redirects=False,
        trust_env=False,
        # Only the codings the crawler undoes itself, with a limit (crawl/decoding.py).
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate, br, zstd"},
    )
