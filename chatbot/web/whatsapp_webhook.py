"""The webhook Meta calls for a bot's WhatsApp number: `/webhooks/whatsapp/<bot>`.

- `GET` is Meta's verification when the owner sets the callback URL in the Meta app: the
  challenge is echoed only for `hub.mode=subscribe` and the bot's own verify token.
- `POST` carries messages and delivery receipts. It is refused (403, nothing stored) unless
  `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body with the bot's app secret; it is
  answered 200 as soon as what it brought is stored, and handled off the request
  (chatbot/whatsapp/desk.py). A body past 1 MB, or one that is not JSON, is refused with 400.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from chatbot.services import Services
from chatbot.whatsapp.webhook import signed

log = logging.getLogger(__name__)

_MAX_BODY = 1_000_000  # Meta's payloads are a few kilobytes; more is no webhook of theirs


_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not JSON."},
    403: {"description": "The verify token or the signature is not this bot's."},
    404: {"description": "The bot has no WhatsApp number."},
    413: {"description": "The body is larger than a WhatsApp webhook's (1 MB)."},
}


def _refused(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status)


def whatsapp_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["whatsapp"])
    desk = services.whatsapp

    @router.get(
        "/webhooks/whatsapp/{bot}",
        response_class=PlainTextResponse,
        responses={k: v for k, v in _REFUSALS.items() if k in (403, 404)},
    )
    def verify(request: Request, bot: str) -> Response:
        """Meta's check of the callback URL: the challenge back, for the right verify token."""
        channel = desk.store.channel(bot)
        query = request.query_params
        if channel is None:
            return _refused(404, "this bot has no WhatsApp number")
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") != "subscribe" or not _same(token, channel.verify_token):
            log.warning("WhatsApp webhook verification for %s refused: wrong verify token", bot)
            return _refused(403, "the verify token does not match this bot's")
        return PlainTextResponse(query.get("hub.challenge", ""))

    @router.post("/webhooks/whatsapp/{bot}", responses=_REFUSALS)
    async def receive(request: Request, bot: str) -> Response:
        """Messages and delivery receipts for the bot's number, signed by Meta."""
        channel = await run_in_threadpool(desk.store.channel, bot)
        if channel is None:
            return _refused(404, "this bot has no WhatsApp number")
        body = bytearray()
        async for piece in request.stream():
            body += piece
            if len(body) > _MAX_BODY:
                return _refused(413, "the body is larger than a WhatsApp webhook's")
        raw = bytes(body)
        if not signed(raw, request.headers.get("x-hub-signature-256"), channel.app_secret):
            log.warning("WhatsApp webhook for %s refused: the signature does not match", bot)
            return _refused(403, "the signature does not match this bot's app secret")
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):
            return _refused(400, "the body is not JSON")
        await run_in_threadpool(desk.take, bot, channel, payload)
        return JSONResponse({"ok": True})

    return router


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
