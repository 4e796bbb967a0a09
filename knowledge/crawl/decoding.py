"""A web server's compressed body decoded with a limit on the bytes that come out.

httpx decodes a body a whole network chunk at a time: 1.6 KB sent as `Content-Encoding: br`
(or zstd, or gzip twice) came out as 1 GB in one piece before the crawler's page-size check
saw any of it. Here each coding the server lists is undone in turn, each step asked for no
more than the limit allows, so that a body is stopped at the first byte past the limit, not
after it has been inflated whole. The crawler reads robots.txt, sitemaps and pages through this.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli
import zstandard

# A zstd frame may ask for a window of up to 2 GB; a web page needs far less (browsers accept
# 8 MB windows), and a frame asking for more is refused before its window is allocated.
_ZSTD_WINDOW = 8 * 1024 * 1024
# zstd input is fed in slices this small: one byte of it can stand for at most about 32 KB of
# output (a block repeating one byte), so no single step writes much past the limit.
_ZSTD_SLICE = 16


class TooBig(ValueError):
    """The decoded body passed the limit."""


class Undecodable(ValueError):
    """A content coding this reader cannot undo, or a body that is not what its coding says;
    the message says which, in plain words."""


class Step(Protocol):
    def __call__(self, data: bytes, room: int) -> bytes:
        """`data` decoded, asking for at most `room` bytes out (TooBig past them)."""

    def finished(self) -> bool:
        """Whether the coded stream has ended as its coding says it must."""


class _Zlib(Step):
    """gzip or deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, wbits: int, raw_fallback: bool = False) -> None:
        self._decoder = zlib.decompressobj(wbits)
        self._raw_fallback = raw_fallback
        self._started = False

    def __call__(self, data: bytes, room: int) -> bytes:
        try:
            out = self._decoder.decompress(data, room)
        except zlib.error:
            if not self._raw_fallback or self._started:
                raise
            self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._decoder.decompress(data, room)
        self._started = True
        if self._decoder.unconsumed_tail:
            raise TooBig
        return out

    def finished(self) -> bool:
        return self._decoder.eof


class _Brotli(Step):
    def __init__(self) -> None:
        self._decoder = brotli.Decompressor()

    def __call__(self, data: bytes, room: int) -> bytes:
        out: bytes = self._decoder.process(data, output_buffer_limit=room)
        if not self._decoder.can_accept_more_data():
            raise TooBig  # output is waiting beyond what was asked for
        return out

    def finished(self) -> bool:
        return bool(self._decoder.is_finished())


class _Zstd(Step):
    def __init__(self) -> None:
        context = zstandard.ZstdDecompressor(max_window_size=_ZSTD_WINDOW)
        self._decoder = context.decompressobj()

    def __call__(self, data: bytes, room: int) -> bytes:
        out = bytearray()
        for start in range(0, len(data), _ZSTD_SLICE):
            out += self._decoder.decompress(data[start : start + _ZSTD_SLICE])
            if len(out) > room:
                raise TooBig
        return bytes(out)

    def finished(self) -> bool:
        return bool(self._decoder.eof)


def _step(coding: str) -> Step | None:
    if coding in ("gzip", "x-gzip"):
        return _Zlib(16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return _Zlib(zlib.MAX_WBITS, raw_fallback=True)
    if coding == "br":
        return _Brotli()
    if coding == "zstd":
        return _Zstd()
    if coding in ("", "identity"):
        return None
    raise Undecodable(f"it is compressed as '{coding[:40]}', which this reader cannot undo")


class BoundedDecoder:
    """Feed it the raw body piece by piece; each piece comes back decoded. Raises TooBig as
    soon as more than `limit` bytes would come out of any step; Undecodable for a coding it
    cannot undo (at once) or a body its coding does not fit."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        # Listed in the order they were applied: undone from the last.
        self._steps = [s for s in (_step(c) for c in reversed(codings)) if s is not None]
        self._out = [0] * len(self._steps)  # bytes each step has given so far
        self._limit = limit

    def feed(self, data: bytes) -> bytes:
        for i, step in enumerate(self._steps):
            if not data:
                return b""
            room = self._limit + 1 - self._out[i]
            try:
                data = step(data, room)
            except (zlib.error, brotli.error, zstandard.ZstdError) as exc:
                raise Undecodable("its compressed bytes are damaged or cut short") from exc
            self._out[i] += len(data)
            if self._out[i] > self._limit:
                raise TooBig
        return data

    def finish(self) -> None:
        """At the end of the body: Undecodable when a coded stream stopped short."""
        if not all(step.finished() for step in self._steps):
            raise Undecodable("its compressed bytes are damaged or cut short")
