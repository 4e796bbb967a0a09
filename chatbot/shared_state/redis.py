"""Shared state in Redis: each operation one Lua script, so that it is atomic across servers,
and timed by the Redis server's clock, so that servers whose clocks differ count alike."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from chatbot.shared_state import SharedStateUnavailable

# Sorted sets of event times (hit) and of lease expiries (lease), in milliseconds.
_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "
_HIT = (
    _NOW
    + """
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return window - (now - tonumber(oldest[2]))
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return -1
"""
)
_LEASE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""
)
_RENEW = (
    _NOW
    + """
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not expiry or tonumber(expiry) < now then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
    redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
end
return 1
"""
)


class RedisStore:
    def __init__(self, url: str, prefix: str = "chatbot:") -> None:
        import redis

        self._errors = (redis.ConnectionError, redis.TimeoutError)
        # Short timeouts: a visitor waits on this before every answer.
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._prefix = prefix
        self._scripts: dict[str, Callable[..., Any]] = {
            name: self._redis.register_script(body)
            for name, body in (("hit", _HIT), ("lease", _LEASE), ("renew", _RENEW))
        }
        address = urlsplit(url)
        self._where = f"{address.hostname}:{address.port or 6379}"  # no password in messages

    @contextmanager
    def _talking(self) -> Iterator[None]:
        try:
            yield
        except self._errors as exc:
            raise SharedStateUnavailable(f"Redis at {self._where} is unavailable: {exc}") from exc

    def _run(self, script: str, key: str, *args: object) -> int:
        with self._talking():
            return int(self._scripts[script](keys=[self._prefix + key], args=list(args)))

    def hit(self, key: str, limit: int, window_s: float) -> float | None:
        wait_ms = self._run("hit", key, limit, round(window_s * 1000), secrets.token_hex(8))
        return None if wait_ms < 0 else wait_ms / 1000

    def lease(self, key: str, capacity: int, ttl_s: float) -> str | None:
        token = secrets.token_hex(8)
        return token if self._run("lease", key, capacity, round(ttl_s * 1000), token) else None

    def renew(self, key: str, token: str, ttl_s: float) -> bool:
        return bool(self._run("renew", key, round(ttl_s * 1000), token))

    def release(self, key: str, token: str) -> None:
        with self._talking():
            self._redis.zrem(self._prefix + key, token)

    def get(self, key: str) -> bytes | None:
        with self._talking():
            value = self._redis.get(self._prefix + key)
        assert value is None or isinstance(value, bytes)  # no decode_responses: bytes back
        return value

    def put(self, key: str, value: bytes, ttl_s: float) -> None:
        with self._talking():
            self._redis.set(self._prefix + key, value, px=round(ttl_s * 1000))

    def delete(self, key: str) -> None:
        with self._talking():
            self._redis.delete(self._prefix + key)

    def sweep(self) -> None:
        """Nothing to do: Redis expires keys itself."""

    def check(self) -> None:
        with self._talking():
            self._redis.ping()

    def close(self) -> None:
        self._redis.close()
