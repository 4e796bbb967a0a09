"""Who a visitor is, as the rate limits see it: what the server sees, never what they claim."""

from __future__ import annotations

import pytest

from chatbot.limits.rates import RateLimiter
from chatbot.web.visitors import VisitorAddress


def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored() -> None:
    direct = VisitorAddress(trusted_proxies=[])
    assert direct.key("203.0.113.9", "1.2.3.4") == "203.0.113.9"
    behind = VisitorAddress(trusted_proxies=["10.0.0.0/8"])
    assert behind.key("203.0.113.9", "1.2.3.4") == "203.0.113.9"  # not from our proxy


def test_behind_trusted_proxies_the_visitor_is_the_last_address_they_did_not_add() -> None:
    behind = VisitorAddress(trusted_proxies=["10.0.0.0/8", "127.0.0.1"])
    # The visitor can put anything first; the proxies append the address they saw.
    assert behind.key("127.0.0.1", "6.6.6.6, 198.51.100.4, 10.1.2.3") == "198.51.100.4"


def test_ipv6_visitors_are_counted_per_network_and_mapped_ipv4_as_ipv4() -> None:
    direct = VisitorAddress(trusted_proxies=[])
    one = direct.key("2001:db8:1:2:aaaa::1", None)
    assert one == direct.key("2001:db8:1:2:bbbb::7", None) == "2001:db8:1:2::/64"
    assert direct.key("2001:db8:1:3::1", None) != one
    assert direct.key("::ffff:203.0.113.5", None) == "203.0.113.5"


def test_the_rate_limit_is_a_sliding_minute() -> None:
    now = [1000.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.allow("a", 2) for _ in range(2)] == [None, None]
    wait = limiter.allow("a", 2)
    assert wait is not None and 59 <= wait <= 60
    assert limiter.allow("b", 2) is None  # someone else is not held back
    now[0] += 60
    assert limiter.allow("a", 2) is None


# In one process, no server or browser: part of the fast tier.
pytestmark = pytest.mark.contract
