"""Reasoning models (DeepSeek-R1 distills, Qwen3) think aloud in <think>...</think>: never shown."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

_OPEN, _CLOSE = "<think>", "</think>"


def without_thinking(deltas: Iterable[str]) -> Iterator[str]:
    """The streamed text with every <think> section removed, even one split across deltas."""
    buffer = ""
    thinking = False
    for delta in deltas:
        buffer += delta
        while buffer:
            tag = _CLOSE if thinking else _OPEN
            at = buffer.find(tag)
            if at >= 0:
                if not thinking and buffer[:at]:
                    yield buffer[:at]
                buffer = buffer[at + len(tag) :]
                thinking = not thinking
                continue
            # Keep a tail that could be the start of a tag split across deltas.
            keep = next(
                (
                    n
                    for n in range(min(len(tag) - 1, len(buffer)), 0, -1)
                    if tag.startswith(buffer[-n:])
                ),
                0,
            )
            if not thinking and buffer[: len(buffer) - keep]:
                yield buffer[: len(buffer) - keep]
            buffer = buffer[len(buffer) - keep :]
            break
    if buffer and not thinking:
        yield buffer
