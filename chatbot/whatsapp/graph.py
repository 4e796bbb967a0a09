"""Meta's Graph API for WhatsApp, as much of it as the bot uses: send a message (text, reply
buttons, an approved template), mark one read with the typing indicator; and what its errors
mean for a business.

Errors (Graph's `{"error": {"code", "message", "error_subcode", ...}}`) become `GraphError`
with a `kind`:
- `auth`: the access token is expired, revoked or lacks the permission (code 190, 10, 200-299,
  HTTP 401): nothing can be sent until the owner sets a new one; replies wait for it.
- `rate`: too many messages (codes 4, 80007, 130429, 131048, 131056; HTTP 429): retried later.
- `window`: the customer last wrote more than 24 hours ago (131047): only a template may go.
- `unreachable`: no answer, or Meta's side failed (HTTP 5xx, codes 1, 2, 131000, 131016):
  retried later.
- `refused`: anything else (a bad number, a template not approved): not retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx

Kind = Literal["auth", "rate", "window", "unreachable", "refused"]

_RATE = {4, 80007, 130429, 131048, 131056}
_UNREACHABLE = {1, 2, 131000, 131016}
MAX_TEXT = 4096  # characters of one text message


class GraphError(Exception):
    def __init__(self, kind: Kind, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.code = kind, code


@dataclass(frozen=True, slots=True)
class GraphClient:
    base_url: str  # https://graph.facebook.com/v21.0
    phone_number_id: str
    access_token: str
    timeout_s: float = 15.0

    def send(self, to: str, message: dict[str, Any]) -> str:
        """Send `message` (its `type` and the part that type needs) to the number `to`; Meta's
        id of the message sent."""
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        answer = self._post({**payload, **message})
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as exc:
            raise GraphError("unreachable", "Meta's answer named no message") from exc

    def read_and_typing(self, wamid: str) -> None:
        """The customer's message shown as read, with "typing…" until the reply (or 25 s)."""
        self._post(
            {
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": wamid,
                "typing_indicator": {"type": "text"},
            }
        )

    def check(self) -> str:
        """The number as Meta shows it, if the token opens it (GET the phone number); raises
        GraphError otherwise."""
        answer = self._call("GET", f"{self.base_url.rstrip('/')}/{self.phone_number_id}", None)
        return str(answer.get("display_phone_number") or "")

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url.rstrip('/')}/{self.phone_number_id}/messages"
        return self._call("POST", url, body)

    def _call(self, method: str, url: str, body: dict[str, Any] | None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.access_token}"}
        try:
            response = httpx.request(
                method, url, json=body, headers=headers, timeout=self.timeout_s
            )
        except httpx.HTTPError as exc:
            raise GraphError(
                "unreachable", f"Meta could not be reached ({type(exc).__name__})"
            ) from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code < 300 and isinstance(answer, dict):
            return answer
        raise _error(response.status_code, answer)


def _error(status: int, answer: Any) -> GraphError:
    error = answer.get("error", {}) if isinstance(answer, dict) else {}
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    said = str(error.get("message") or f"HTTP {status}")[:300]
    if code == 190 or code == 10 or (code is not None and 200 <= code <= 299) or status == 401:
        return GraphError("auth", f"Meta refused the access token: {said}", code)
    if code in _RATE or status == 429:
        return GraphError("rate", f"Meta's rate limit: {said}", code)
    if code == 131047:
        return GraphError(
            "window", "the customer last wrote more than 24 hours ago: only a template", code
        )
    if code in _UNREACHABLE or status >= 500:
        return GraphError("unreachable", f"Meta failed: {said}", code)
    return GraphError("refused", f"Meta refused the message: {said}", code)
