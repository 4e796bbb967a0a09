"""Which files each staff session uploaded through the console, and their removal once used.

Gradio hands a console event the server-side path of each uploaded file, and its queue API
takes whatever path a caller writes there. Its own check that the path is an upload does not
run for an app mounted with `mount_gradio_app`, so without this an editor could have the
console ingest any file the server can read (its settings, another business's documents).
Here the upload endpoint's answers are recorded per staff session, a console event takes only
paths its own session was given, and every copy is deleted once ingested or rejected.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response

log = logging.getLogger(__name__)

NOT_UPLOADED = "this file did not arrive through your upload; upload it again"


def _key(token: str | None) -> str:
    # The session token itself is a credential: it is kept only as a hash, here as elsewhere.
    return hashlib.sha256((token or "").encode()).hexdigest()


class ConsoleUploads:
    def __init__(self, folder: Path, upload_path: str, cookie: str) -> None:
        """`folder`: Gradio's upload folder, ours alone (GRADIO_TEMP_DIR); emptied now, since
        nothing in it from an earlier run belongs to a live session. `upload_path`: Gradio's
        upload endpoint; `cookie`: the staff session's cookie."""
        self._upload_path, self._cookie = upload_path, cookie
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, mode=0o700)
        self.folder = folder.resolve()
        self._lock = threading.Lock()
        self._by_session: dict[str, set[str]] = {}

    def record(self, token: str | None, paths: Iterable[str]) -> None:
        with self._lock:
            self._by_session.setdefault(_key(token), set()).update(paths)

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

    async def watch(self, request: Request, call_next: Any) -> Any:
        """HTTP middleware: note the paths that the upload endpoint gives a session."""
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
