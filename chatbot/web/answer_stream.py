"""One answer streamed to one visitor, from a thread of its own, stopped when nobody listens.

The answering chain blocks (it waits for the model's tokens), so it runs outside the event loop.
It must not outlive its visitor: an answer still generating for a closed browser holds the model
(one generation at a time on the embedded model) and an answer slot, and enough of them stop the
server answering anyone. So the chain is asked, between tokens, whether anyone still listens;
the visitor going away, or the server shutting down, makes the answer stop within a token, and
the thread closes the chain's generator, which closes the model's stream.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import closing, suppress
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from chatbot.answering.chain import Stop

log = logging.getLogger(__name__)

_open: set[AnswerStream] = set()  # in flight, for the server's shutdown


def stop_all_answers() -> None:
    """The server is stopping: every answer in flight ends at its next token."""
    for stream in list(_open):
        stream.stop()


class AnswerStream(StreamingResponse):
    """Server-sent events made by `produce(stop)` in a daemon thread; `on_end` runs on the event
    loop once the generation has really ended (not when the visitor left: the model may still
    be busy until its next token)."""

    def __init__(
        self,
        produce: Callable[[Stop], Generator[bytes, None, None]],
        on_end: Callable[[], None],
        headers: dict[str, str],
    ) -> None:
        self._stopped = threading.Event()
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._on_end = on_end
        super().__init__(self._chunks(), media_type="text/event-stream", headers=headers)
        _open.add(self)
        # Started here, not when the body is first read: then `on_end` runs whatever happens to
        # the response (a visitor gone before the first byte included).
        threading.Thread(target=self._run, args=(produce,), name="answer", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def _post(self, callback: Callable[..., Any], *args: Any) -> None:
        with suppress(RuntimeError):  # the event loop has closed: the server is gone
            self._loop.call_soon_threadsafe(callback, *args)

    def _run(self, produce: Callable[[Stop], Generator[bytes, None, None]]) -> None:
        try:
            events = produce(self._stopped.is_set)
            with closing(events):
                for chunk in events:
                    if self._stopped.is_set():
                        break
                    self._post(self._queue.put_nowait, chunk)
        except Exception:
            log.exception("an answer's stream failed")
        finally:
            self._post(self._queue.put_nowait, None)
            self._post(self._ended)

    def _ended(self) -> None:
        _open.discard(self)
        self._on_end()

    async def _chunks(self) -> AsyncIterator[bytes]:
        while (chunk := await self._queue.get()) is not None:
            yield chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:  # sent in full, the visitor gone, or the server cancelling: stop generating
            self.stop()
