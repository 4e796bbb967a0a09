"""A stand-in for Meta's Graph API on loopback (Meta cannot be reached here), speaking its wire
format: `POST /<version>/<phone-number-id>/messages` with a bearer token, answered
`{"messaging_product", "contacts", "messages": [{"id": "wamid..."}]}`, or `{"success": true}`
for a read receipt; `GET /<version>/<phone-number-id>`; and its errors as Graph gives them
(`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}` with its HTTP status).
It keeps every request, and can be told to refuse the token or fail the next sends. It also
makes the webhooks Meta would post, signed as Meta signs them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERSION = "v21.0"

ERRORS = {
    "expired": (
        401,
        {
            "message": "Error validating access token: Session has expired on Monday, 07-Dec-26.",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 463,
        },
    ),
    "rate": (
        400,
        {
            "message": "(#130429) Rate limit hit",
            "type": "OAuthException",
            "code": 130429,
            "error_data": {"messaging_product": "whatsapp", "details": "Cloud API throughput"},
        },
    ),
    "window": (
        400,
        {
            "message": "(#131047) Re-engagement message",
            "type": "OAuthException",
            "code": 131047,
            "error_data": {
                "messaging_product": "whatsapp",
                "details": "Message failed to send because more than 24 hours have passed since"
                " the customer last replied to this number.",
            },
        },
    ),
    "down": (
        500,
        {"message": "An unknown error has occurred.", "type": "OAuthException", "code": 1},
    ),
}


class GraphStub:
    def __init__(self, phone_number_id: str, token: str) -> None:
        self.phone_number_id, self.token = phone_number_id, token
        self.requests: list[dict[str, Any]] = []  # every call's {method, path, auth, body}
        self.sent: list[dict[str, Any]] = []  # messages accepted (not read receipts)
        self.failing: list[str] = []  # the next sends fail with these ERRORS, in turn
        self.changed = threading.Condition()
        self._ids = itertools.count(1)
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                stub._record("GET", self.path, self.headers.get("Authorization", ""), None)
                if self.path != f"/{VERSION}/{stub.phone_number_id}":
                    return self._error(404, {"message": "Unknown path", "code": 100})
                if self.headers.get("Authorization") != f"Bearer {stub.token}":
                    return self._error(*ERRORS["expired"])
                self._json(
                    200, {"id": stub.phone_number_id, "display_phone_number": "60 4-261 8833"}
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                auth = self.headers.get("Authorization", "")
                stub._record("POST", self.path, auth, body)
                if self.path != f"/{VERSION}/{stub.phone_number_id}/messages":
                    return self._error(404, {"message": "Unknown path", "code": 100})
                if auth != f"Bearer {stub.token}":
                    return self._error(*ERRORS["expired"])
                if body.get("status") == "read":
                    return self._json(200, {"success": True})
                with stub.changed:
                    failure = stub.failing.pop(0) if stub.failing else None
                if failure:
                    return self._error(*ERRORS[failure])
                wamid = f"wamid.OUT{next(stub._ids)}"
                with stub.changed:
                    stub.sent.append({**body, "id": wamid})
                    stub.changed.notify_all()
                self._json(
                    200,
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                        "messages": [{"id": wamid}],
                    },
                )

            def _error(self, status: int, error: dict[str, Any]) -> None:
                self._json(status, {"error": {**error, "fbtrace_id": "AbCdEf123"}})

            def _json(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/{VERSION}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _record(self, method: str, path: str, auth: str, body: Any) -> None:
        with self.changed:
            self.requests.append({"method": method, "path": path, "auth": auth, "body": body})
            self.changed.notify_all()

    def wait_for(
        self, condition: Callable[[list[dict[str, Any]]], Any], what: str, timeout: float = 90
    ) -> Any:
        """What `condition(sent)` gives once it gives something (the messages sent so far)."""
        with self.changed:
            found = self.changed.wait_for(lambda: condition(self.sent), timeout)
            assert found, f"{what}; sent: {json.dumps(self.sent, ensure_ascii=False)[:3000]}"
            return found

    def to(self, number: str) -> list[dict[str, Any]]:
        with self.changed:
            return [m for m in self.sent if m.get("to") == number]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def texts(messages: list[dict[str, Any]]) -> list[str]:
    """What each message says: a text's body, a notice's body, a template's parameter."""
    out = []
    for m in messages:
        if m["type"] == "text":
            out.append(m["text"]["body"])
        elif m["type"] == "interactive":
            out.append(m["interactive"]["body"]["text"])
        elif m["type"] == "template":
            params = m["template"]["components"][0]["parameters"]
            out.append(" ".join(p["text"] for p in params))
    return out


_wamids = itertools.count(1)


def message(
    number: str,
    text: str | None = None,
    *,
    kind: str = "text",
    reply: tuple[str, str] | None = None,
    wamid: str | None = None,
    at: float | None = None,
) -> dict[str, Any]:
    """One customer message as Meta puts it in a webhook: text, a reply button pressed
    (`reply`: id and title), or another kind (audio, image…)."""
    body: dict[str, Any] = {
        "from": number,
        "id": wamid or f"wamid.IN{next(_wamids)}.{time.monotonic_ns()}",
        "timestamp": str(int(at if at is not None else time.time())),
        "type": kind,
    }
    if reply is not None:
        body["type"] = "interactive"
        body["interactive"] = {
            "type": "button_reply",
            "button_reply": {"id": reply[0], "title": reply[1]},
        }
    elif kind == "text":
        body["text"] = {"body": text or ""}
    elif kind == "audio":
        body["audio"] = {
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": "x",
            "id": "1",
            "voice": True,
        }
    return body


def webhook(
    phone_number_id: str,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6042618833", "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = [
            {"profile": {"name": "Customer"}, "wa_id": m["from"]} for m in messages
        ]
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def signed_post(app_secret: str, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of Meta's POST: `X-Hub-Signature-256: sha256=<HMAC of the body>`."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    signature = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
