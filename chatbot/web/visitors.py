"""Who is asking, as the server sees it, and how often they may ask.

Limits key on the network address the connection comes from, never on anything the browser
sends (a cookie or an id a script makes up can be reset at will). Behind a reverse proxy the
visitor's address is taken from X-Forwarded-For, but only when the connection comes from a proxy
the deployment trusts; otherwise anyone could claim any address. IPv6 visitors are counted per
/64 network, which is what one household or phone is given.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
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


class RateLimiter:
    """Sliding one-minute windows of request times per key; thread-safe, bounded in memory."""

    WINDOW_S = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def allow(self, key: str, per_minute: int) -> float | None:
        """Count one request for `key`; None when within the limit, else seconds to wait."""
        now = self._clock()
        with self._lock:
            self._sweep(now)
            times = self._seen.setdefault(key, deque())
            while times and now - times[0] >= self.WINDOW_S:
                times.popleft()
            if len(times) >= per_minute:
                return max(1.0, self.WINDOW_S - (now - times[0]))
            times.append(now)
            return None

    def _sweep(self, now: float) -> None:
        # Forget visitors who went quiet, so that memory follows current traffic only.
        if now - self._last_sweep < self.WINDOW_S:
            return
        self._last_sweep = now
        for key in [k for k, t in self._seen.items() if not t or now - t[-1] >= self.WINDOW_S]:
            del self._seen[key]
