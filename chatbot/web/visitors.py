"""Who is asking, as the server sees it, and how often they may ask.

Limits key on the network address the connection comes from, never on anything the browser
sends (a cookie or an id a script makes up can be reset at will). Behind a reverse proxy the
visitor's address is taken from X-Forwarded-For, but only when the connection comes from a proxy
the deployment trusts; otherwise anyone could claim any address. IPv6 visitors are counted per
/64 network, which is what one household or phone is given.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class VisitorAddress:
    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self._trusted: list[Network] = [
            ipaddress.ip_network(p, strict=False) for p in trusted_proxies
        ]

    def of(self, request: Any) -> str:
        """The rate-limit key of a web request (Starlette's, or Gradio's wrapper of it)."""
        peer = request.client.host if request.client else None
        return self.key(peer, request.headers.get("x-forwarded-for"))

    def key(self, peer: str | None, forwarded_for: str | None) -> str:
        """The rate-limit key of a request from `peer` with that X-Forwarded-For header."""
        address = peer or "unknown"
        if forwarded_for and self.is_trusted(address):
            # The right-most address no trusted proxy added is the visitor's.
            for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
                address = hop
                if not self.is_trusted(hop):
                    break
        return _bucket(address)

    def is_trusted(self, address: str | None) -> bool:
        if address is None:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)


def _bucket(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
