"""A loopback HTTP server that speaks Ollama's API, for testing our Ollama backend.

Ollama itself cannot be installed here. This speaks the documented wire format
(https://github.com/ollama/ollama/blob/main/docs/api.md): GET /api/tags, POST /api/show,
GET /api/ps, POST /api/chat streaming NDJSON, and Ollama's errors ({"error": ...} with 404 for
a model that is not pulled). It can also die in the middle of a streamed answer, as a crashing
server does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StubState:
    models: list[str] = field(default_factory=lambda: ["qwen2.5:3b"])
    context_length: int = 32768
    reply: str = "We are open Monday to Saturday."
    # Replies to the next requests, in order, before `reply`: a question translated, then
    # answered, for instance.
    replies: list[str] = field(default_factory=list)
    # Writes the reply from the request instead (a model that answers from its context).
    responder: Callable[[dict[str, Any]], str] | None = None
    chunk_chars: int = 6
    die_after_chunks: int | None = None  # close the connection mid-stream after this many
    # How fast the model "generates": a pause before each chunk, as a slow model's tokens come.
    chunk_pause_s: float = 0.0
    # The same for one model only ("slow:latest": 0.05), the others at chunk_pause_s.
    chunk_pause_by_model: dict[str, float] = field(default_factory=dict)
    # Models loaded in memory, as /api/ps lists them: each one that has answered a chat.
    loaded: set[str] = field(default_factory=set)
    # While cleared, a chat request gets its headers and then nothing (a model stuck on a
    # prompt); set it to let the answer flow.
    flowing: threading.Event = field(default_factory=lambda: _set(threading.Event()))
    # Set when a client went away in the middle of a streamed answer.
    client_left: threading.Event = field(default_factory=threading.Event)
    chats: list[dict[str, Any]] = field(default_factory=list)
    # Notified as each chat request arrives: a test waits on it, not on the clock.
    arrived: threading.Condition = field(default_factory=threading.Condition)


def _set(event: threading.Event) -> threading.Event:
    event.set()
    return event


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")  # type: ignore[no-any-return]

    def _model(self, body: dict[str, Any]) -> str | None:
        name = body.get("model") or body.get("name") or ""
        name = name if ":" in name else f"{name}:latest"
        return name if name in self.server.state.models else None

    def do_GET(self) -> None:
        if self.path == "/api/tags":
            models = [
                {"name": m, "model": m, "size": 1_900_000_000, "details": {"family": "qwen2"}}
                for m in self.server.state.models
            ]
            self._json(200, {"models": models})
        elif self.path == "/api/ps":  # the models in memory, with the memory each takes
            loaded = [
                {"name": m, "model": m, "size": 2_400_000_000, "size_vram": 0}
                for m in sorted(self.server.state.loaded)
            ]
            self._json(200, {"models": loaded})
        elif self.path == "/":
            self._json(200, {"status": "Ollama is running"})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = self._body()
        if self.path == "/api/show":
            if not self._model(body):
                self._json(404, {"error": f"model '{body.get('model')}' not found"})
                return
            info = {
                "general.architecture": "qwen2",
                "qwen2.context_length": self.server.state.context_length,
            }
            details = {"family": "qwen2", "parameter_size": "3.1B", "quantization_level": "Q4_K_M"}
            self._json(200, {"modelfile": "", "details": details, "model_info": info})
        elif self.path == "/api/chat":
            self._chat(body)
        else:
            self._json(404, {"error": "not found"})

    def _chat(self, body: dict[str, Any]) -> None:
        state = self.server.state
        model = self._model(body)
        if not model:
            self._json(
                404, {"error": f'model "{body.get("model")}" not found, try pulling it first'}
            )
            return
        with state.arrived:
            state.chats.append(body)
            state.arrived.notify_all()
        state.loaded.add(model)
        pause = state.chunk_pause_by_model.get(model, state.chunk_pause_s)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        if state.replies:
            text = state.replies.pop(0)
        else:
            text = state.responder(body) if state.responder else state.reply
        pieces = [text[i : i + state.chunk_chars] for i in range(0, len(text), state.chunk_chars)]
        try:
            state.flowing.wait()
            for n, piece in enumerate(pieces):
                if state.die_after_chunks is not None and n >= state.die_after_chunks:
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)  # the server dies: no terminating chunk
                    return
                if pause:
                    time.sleep(pause)  # the model's speed, not a test's timing
                message = {"role": "assistant", "content": piece}
                self._chunk({"model": model, "message": message, "done": False})
        except (BrokenPipeError, ConnectionResetError):
            state.client_left.set()
            self.close_connection = True
            return
        self._chunk(
            {
                "model": model,
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": "stop",
                "prompt_eval_count": 100,
                "eval_count": len(pieces),
            }
        )
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: StubState, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = state


class OllamaStub:
    """`with OllamaStub() as stub:` then point the app at `stub.url`."""

    def __init__(self, port: int = 0) -> None:
        """On `port`, or (0) a free one."""
        self.state = StubState()
        self._server = _Server(self.state, port)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OllamaStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
