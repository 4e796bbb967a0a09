"""Parsing in a separate process, so that one hostile file cannot hang or exhaust the app.

A parser stuck on a crafted PDF, or one that balloons in memory, is killed at its limit and the
file is rejected; the worker is then restarted for the next file. One worker serves many files,
so the cost of starting it is paid once per batch, not per file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from knowledge.documents import Block, LoadedDocument, PartSink
from knowledge.errors import RejectedFile

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ParseLimits:
    timeout_s: float = 300.0
    memory_mb: int = 3072
    max_pages: int = 5000
    ocr_languages: str = ""  # Tesseract's ("eng+msa") for scans and photos; empty: no OCR


def _serve(conn: Connection, memory_mb: int) -> None:
    # The address-space cap turns runaway allocation into MemoryError instead of an OOM kill
    # of the whole machine.
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # pypdf warns about every odd font; the file either reads or is rejected with a reason.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    from knowledge.loaders import load_bytes

    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        kind, data, max_pages, wants_parts, ocr_languages = request

        def send_part(blocks: list[Block], read: int, total: int) -> None:
            conn.send(("part", blocks, read, total))

        try:
            part_sink = send_part if wants_parts else None
            loaded = load_bytes(kind, data, max_pages, part_sink, ocr_languages)
            conn.send(("ok", loaded))
        except RejectedFile as exc:
            conn.send(("rejected", str(exc)))
        except MemoryError:
            conn.send(("rejected", f"reading the file needed more than {memory_mb} MB of memory"))
        except RecursionError:
            conn.send(("rejected", "the file's structure is nested too deeply to read"))
        except Exception as exc:  # any parser bug becomes a rejection, not a crash
            conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))


class ParseWorker:
    """A child process that parses files under time and memory limits. Use as a context manager.

    The child is `python -m knowledge.parse_worker`, talking over a socket pair: unlike
    multiprocessing's spawn, this does not depend on how the parent's __main__ was started.
    """

    def __init__(self, limits: ParseLimits) -> None:
        self._limits = limits
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._scratch: str | None = None

    def _start(self) -> Connection:
        ours, theirs = socket.socketpair()
        # A temporary folder of its own (TMPDIR): what a parser leaves there (pytesseract's
        # images, when the worker is killed mid-page) goes with the worker.
        self._scratch = tempfile.mkdtemp(prefix="chatbot-parse-")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "knowledge.parse_worker",
                str(theirs.fileno()),
                str(self._limits.memory_mb),
            ],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            # Whatever a parser prints as it fails is not for the person ingesting: the reason
            # comes back over the socket in words, the details go to the log.
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "TMPDIR": self._scratch},
            # Its own process group: killed at its time limit, the programs it started
            # (Tesseract) go with it rather than run on.
            start_new_session=True,
        )
        theirs.close()
        self._conn = Connection(ours.detach())
        return self._conn

    def parse(self, kind: str, data: bytes, on_part: PartSink | None = None) -> LoadedDocument:
        """The parsed document. `on_part` gets a long PDF's blocks early, while the worker
        reads on; whatever arrived while it was busy comes in one call."""
        conn = self._conn or self._start()
        deadline = time.monotonic() + self._limits.timeout_s
        try:
            limits = self._limits
            conn.send((kind, data, limits.max_pages, on_part is not None, limits.ocr_languages))
            reply = self._next(conn, deadline)
            while reply[0] == "part" and on_part is not None:
                blocks, read, total = list(reply[1]), reply[2], reply[3]
                while conn.poll(0) and (reply := conn.recv())[0] == "part":
                    blocks += reply[1]
                    read, total = reply[2], reply[3]
                if reply[0] != "part":
                    break  # the whole document is here: no use handing over a part of it
                on_part(blocks, read, total)
                reply = self._next(conn, deadline)
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as exc:
            # The worker died mid-file: the kernel killed it, or a C extension crashed.
            self._kill()
            raise RejectedFile(
                "reading the file stopped the document reader (it may be damaged); save it"
                " again from the program that made it and upload that"
            ) from exc
        except BaseException:
            # `on_part` failed (or we were interrupted) with parts still on the way: this
            # worker's replies are out of step with its requests, so it must not serve another.
            self._kill()
            raise
        if reply[0] == "ok":
            return reply[1]  # type: ignore[no-any-return]
        if reply[0] == "rejected":
            raise RejectedFile(reply[1])
        log.error("parser failed: %s\n%s", reply[1], reply[2])
        raise RejectedFile(
            "the file could not be read: it may be damaged, or made in a way this reader does"
            " not know (the details are in the log)"
        )

    def reading(self) -> bool:
        """Whether the worker is still at work on the file `parse` handed it, with nothing new
        to hand over: called from `on_part`, it says whether to go on with work of our own."""
        conn = self._conn
        return conn is not None and not conn.poll(0)

    def _next(self, conn: Connection, deadline: float) -> Any:
        if not conn.poll(max(0.0, deadline - time.monotonic())):
            self._kill()
            raise RejectedFile(
                f"reading the file took longer than {self._limits.timeout_s:g} seconds"
            )
        return conn.recv()

    def _kill(self) -> None:
        if self._process is not None:
            if self._process.returncode is None:  # not reaped: its group id is still its own
                with contextlib.suppress(ProcessLookupError, PermissionError):  # gone already
                    os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(5)
        self._process = None
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._clear_scratch()

    def _clear_scratch(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._kill()
        self._process = None
        self._clear_scratch()

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])), int(sys.argv[2]))
