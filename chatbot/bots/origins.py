"""Web origins (scheme://host[:port]), as browsers send them in the Origin header.

A bot lists the sites allowed to embed it; the list is compared with what browsers send, so both
are written the same way: lower-case scheme and host, no default port, no path, no trailing slash.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(value: str) -> str:
    """`value` as a browser writes its origin; ValueError with the reason when it is not one."""
    text = value.strip()
    if text in ("*", "null"):
        raise ValueError(f"{text!r} is not allowed: name each site, e.g. https://shop.example")
    parts = urlsplit(text)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"{value!r} is not a site address like https://shop.example")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{value!r} must be a site only, like https://shop.example (no path)")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{value!r} has an invalid port") from exc
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    origin = f"{parts.scheme.lower()}://{host}"
    if port is not None and port != _DEFAULT_PORTS[parts.scheme.lower()]:
        origin += f":{port}"
    return origin
