"""Which files each staff session uploaded through the console, and their removal once used.

Gradio hands a console event the server-side path of each uploaded file, and its queue API
takes whatever path a caller writes there. Its own check that the path is an upload does not
run for an app mounted with `mount_gradio_app`, so without this an editor could have the
console ingest any file the server can read (its settings, another business's documents).
Here the upload endpoint's answers are recorded per staff session, a console event takes only
paths its own session was given, and every copy is deleted once ingested or rejected.

Gradio also copies and hashes every file an event names *before* any handler of ours runs, on
its event loop: a path of `/dev/zero` froze the whole server, and `/etc/passwd` was left copied
in the upload folder. So every request to the console's Gradio API is read first (`guard`): one
naming a file this session was never given is refused there, before Gradio reads anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

log = logging.getLogger(__name__)

NOT_UPLOADED = "this file did not arrive through your upload; upload it again"
# An upload not used within this long is deleted (one broken off, or one staff chose and left):
# the folder does not fill up between restarts.
STALE_S = 3600.0


def _key(token: str | None) -> str:
    # The session token itself is a credential: it is kept only as a hash, here as elsewhere.
    return hashlib.sha256((token or "").encode()).hexdigest()


class ConsoleUploads:
    def __init__(self, folder: Path, upload_path: str, cookie: str, max_bytes: int) -> None:
        """`folder`: Gradio's upload folder, ours alone (GRADIO_TEMP_DIR); emptied now, since
        nothing in it from an earlier run belongs to a live session. `upload_path`: Gradio's
        upload endpoint; `cookie`: the staff session's cookie; `max_bytes`: the most a console
        request other than an upload may send (what an upload may, as a pasted text may)."""
        self._upload_path, self._cookie, self._max_bytes = upload_path, cookie, max_bytes
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, mode=0o700)
        self.folder = folder.resolve()
        self._lock = threading.Lock()
        self._by_session: dict[str, set[str]] = {}
        # Every path each session was given, used or not: an event may name a file again
        # (the page keeps it in the field after ingest); the handler then says it is gone.
        self._given: dict[str, set[str]] = {}
        # Every request to the console (its mount point), not only Gradio's API prefix: a
        # route Gradio adds later is guarded without anyone remembering it.
        self._console = "/" + upload_path.strip("/").split("/", 1)[0]

    def record(self, token: str | None, paths: Iterable[str]) -> None:
        with self._lock:
            self._by_session.setdefault(_key(token), set()).update(paths)
            self._given.setdefault(_key(token), set()).update(paths)

    def foreign(self, token: str | None, paths: Iterable[str]) -> list[str]:
        """The paths among `paths` that the upload endpoint never gave this session."""
        with self._lock:
            given = self._given.get(_key(token), set())
            return [p for p in paths if p not in given]

    def claim(self, token: str | None, given: Iterable[str]) -> tuple[list[Path], list[str]]:
        """The given paths this session uploaded (each once), and the names of the others."""
        mine: list[Path] = []
        refused: list[str] = []
        with self._lock:
            uploaded = self._by_session.get(_key(token), set())
            for path in given:
                real = Path(path).resolve()
                if path in uploaded and real.is_relative_to(self.folder) and real.is_file():
                    uploaded.discard(path)
                    mine.append(real)
                else:
                    refused.append(Path(path).name)
        return mine, refused

    def discard(self, paths: Iterable[Path]) -> None:
        """Delete used uploads, with the folder Gradio made for each."""
        for path in paths:
            if not path.resolve().is_relative_to(self.folder):
                continue  # never anything outside our own folder
            path.unlink(missing_ok=True)
            if path.parent != self.folder:
                shutil.rmtree(path.parent, ignore_errors=True)

    async def guard(self, request: Request, call_next: Any) -> Any:
        """HTTP middleware: refuse a console API request that names a file this session was
        not given, before Gradio opens it (see the module's docstring)."""
        path = request.url.path
        ours = path == self._console or path.startswith(self._console + "/")
        if request.method != "POST" or not ours or path == self._upload_path:
            return await call_next(request)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            return _refusal(413, "this request is too large for a console event")
        received = bytearray()
        async for chunk in request.stream():
            received += chunk
            if len(received) > self._max_bytes:
                return _refusal(413, "this request is too large for a console event")
        body = bytes(received)
        request._body = body  # what call_next hands on: the stream is read once
        try:
            event = json.loads(body) if body else None
        except ValueError:
            event = None  # not ours to judge: Gradio answers malformed JSON itself
        named = list(_file_paths(event))
        if named and (strange := self.foreign(request.cookies.get(self._cookie), named)):
            log.warning("console event refused: it names %d file(s) not uploaded", len(strange))
            return _refusal(400, f"{Path(strange[0]).name}: {NOT_UPLOADED}")
        return await call_next(request)

    def sweep(self, now: float | None = None) -> None:
        """Delete what has lain in the upload folder longer than STALE_S, and forget it."""
        cutoff = (time.time() if now is None else now) - STALE_S
        for entry in self.folder.iterdir():
            try:
                if entry.lstat().st_mtime >= cutoff:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
            except OSError:
                continue  # gone meanwhile
        with self._lock:
            for session, paths in self._by_session.items():
                self._by_session[session] = {p for p in paths if Path(p).exists()}

    async def watch(self, request: Request, call_next: Any) -> Any:
        """HTTP middleware: note the paths that the upload endpoint gives a session (and,
        on each upload, clear what earlier ones left)."""
        if request.method == "POST" and request.url.path == self._upload_path:
            await run_in_threadpool(self.sweep)
        response = await call_next(request)
        if request.method != "POST" or request.url.path != self._upload_path:
            return response
        body = b"".join([chunk async for chunk in response.body_iterator])
        if response.status_code == 200:
            try:
                paths = json.loads(body)
            except ValueError:
                paths = []
            if isinstance(paths, list):
                token = request.cookies.get(self._cookie)
                self.record(token, [p for p in paths if isinstance(p, str)])
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return Response(body, status_code=response.status_code, headers=headers)


def _refusal(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"detail": reason}, status_code=status)


def _file_paths(value: Any) -> Iterable[str]:
    """Every file path a Gradio event names: a mapping with a "path" (Gradio's FileData, with
    or without its type mark: Gradio validates both as files), however deep."""
    if isinstance(value, dict):
        if isinstance(value.get("path"), str):
            yield value["path"]
        for item in value.values():
            yield from _file_paths(item)
    elif isinstance(value, list):
        for item in value:
            yield from _file_paths(item)
