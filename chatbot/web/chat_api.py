"""`POST /api/bots/<bot>/chat`: a customer's message in, the answer out as server-sent events.

The embed page (/embed/<bot>), the launcher and any other front end (a WhatsApp bridge, an app)
all chat through here, under one set of rules, checked before any work is done:
- the Origin: a browser page may call only from the server's own pages or a site the bot allows;
  a request without Origin is not from a browser page (a bridge, curl) and is let through;
- the size of the body and of the message; the number of questions in one conversation;
- the rate per visitor (by network address, see visitors.py) and per bot;
- the answers generated at once; a few more wait, beyond that the visitor is told to come back.
A refusal is JSON `{"error": code, "message": <polite text in the visitor's language>}` with the
HTTP status that says why, so that a page can show the message as it is.

Privacy first (#6): a conversation begins with the customer's agreement to the bot's privacy
notice, `POST /api/bots/<bot>/consent` {"notice_version", "keep": true | false}, which answers
{"conversation_id"}; a chat message without such a conversation is refused (428) unread. A kept
conversation is stored with personal data masked; one not kept is only held in memory while it
runs. `DELETE /api/bots/<bot>/conversations/<id>` erases it (the customer's own right).

Stream: `start` {"conversation_id"}, then `delta` {"text"} pieces, `replace` {"text"} when what
was shown must be taken back (the guard stopped it), and `done` {"answer", "answered",
"fallback", "language", "sources", "conversation_id", "answer_id"}. The customer may then rate the
answer: `POST /api/bots/<bot>/answers/<answer_id>/rating` {"conversation_id", "rating": "up" |
"down" | null}.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Generator
from contextlib import closing
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from chatbot.actions.privacy import erase_own_conversation
from chatbot.answering.chain import Stop, Turn
from chatbot.answering.result import Delta, Done, Replace
from chatbot.privacy.masking import contact_keys
from chatbot.privacy.notice import notice_texts, notice_version
from chatbot.services import Services
from chatbot.settings import BotProfile
from chatbot.store.personal_data import Consent, ConversationRef
from chatbot.web.answer_stream import AnswerStream
from chatbot.web.origins import ForeignOrigin, allowed_caller
from chatbot.web.visitor_text import text, visitor_language
from chatbot.web.visitors import RateLimiter, VisitorAddress

log = logging.getLogger(__name__)

_CONVERSATION_ID = re.compile(r"^[0-9a-f]{32}$")
_RATINGS_PER_MINUTE = 30  # per visitor: a rating costs nothing but a row
_CONSENTS_PER_MINUTE = 30  # per visitor: each starts a conversation, a row


class Refusal(Exception):
    """A request the chat will not answer; `key` names the visitor text that says why."""

    def __init__(self, status: int, key: str, retry_after: float | None = None, **values: object):
        super().__init__(key)
        self.status, self.key, self.retry_after, self.values = status, key, retry_after, values


class AnswerSlots:
    """Answers generated at once for one bot, and how many more may wait for a slot."""

    def __init__(self, running: int, waiting: int) -> None:
        self._running = asyncio.Semaphore(running)
        self._waiting, self._max_waiting = 0, waiting

    async def acquire(self) -> bool:
        if self._running.locked() and self._waiting >= self._max_waiting:
            return False
        self._waiting += 1
        try:
            await self._running.acquire()
        finally:
            self._waiting -= 1
        return True

    def release(self) -> None:
        self._running.release()


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def cors_headers(origin: str | None) -> dict[str, str]:
    if origin is None:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def chat_router(services: Services) -> APIRouter:
    router = APIRouter()
    server = services.settings.server
    addresses = VisitorAddress(server.trusted_proxies)
    visitors, whole_bots, raters = RateLimiter(), RateLimiter(), RateLimiter()
    consenting = RateLimiter()
    slots: dict[str, AnswerSlots] = {}  # per bot, made at its first message

    def refuse(refusal: Refusal, language: str, origin: str | None) -> JSONResponse:
        headers = cors_headers(origin)
        if refusal.retry_after is not None:
            headers["Retry-After"] = str(round(refusal.retry_after))
        body = {"error": refusal.key, "message": text(language, refusal.key, **refusal.values)}
        return JSONResponse(body, status_code=refusal.status, headers=headers)

    def check_origin(request: Request, bot: str, profile: BotProfile) -> str | None:
        try:
            return allowed_caller(request, profile.allowed_origins, addresses)
        except ForeignOrigin as exc:
            log.info("chat with %s refused: the site %s is not allowed", bot, exc)
            raise Refusal(403, "not_allowed") from exc

    def agreed_conversation(bot: str, conversation_id: str) -> Consent:
        """The consent that began a conversation of this bot; 404 when there is none."""
        agreed = _CONVERSATION_ID.match(conversation_id) and (
            services.personal_data.consent_of(bot, conversation_id)
        )
        if not agreed:
            raise Refusal(404, "gone")  # erased, past its retention, or never ours
        return agreed

    def profile_of(bot: str) -> BotProfile:
        # Any bot of the deployment: one created in the console chats without a restart.
        if not services.bots.known(bot):
            raise Refusal(404, "unknown_bot")
        return services.profile(bot)

    @router.options("/api/bots/{bot}/chat")
    @router.options("/api/bots/{bot}/consent")
    @router.options("/api/bots/{bot}/conversations/{conversation_id}")
    @router.options("/api/bots/{bot}/answers/{answer_id}/rating")
    def preflight(request: Request, bot: str) -> Response:
        language = visitor_language(None, request.headers.get("accept-language"))
        try:
            origin = check_origin(request, bot, profile_of(bot))
        except Refusal as refusal:
            return refuse(refusal, language, None)
        headers = {
            **cors_headers(origin),
            "Access-Control-Allow-Methods": "GET, POST, DELETE",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }
        return Response(status_code=204, headers=headers)

    @router.post("/api/bots/{bot}/consent")
    async def consent(request: Request, bot: str) -> Response:
        """The customer agreed to the privacy notice: a conversation starts."""
        language = visitor_language(None, request.headers.get("accept-language"))
        origin: str | None = None
        try:
            profile = profile_of(bot)
            origin = check_origin(request, bot, profile)
            body = _json_object(await _read_body(request, 200))
            version, keep = body.get("notice_version"), body.get("keep")
            if not isinstance(version, str) or not isinstance(keep, bool):
                raise Refusal(400, "bad_request")
            if version != notice_version(notice_texts(profile)):
                raise Refusal(409, "notice_changed")  # agreed to words no longer shown
            visitor = addresses.of(request)
            if (wait := consenting.allow(f"{bot}\0{visitor}", _CONSENTS_PER_MINUTE)) is not None:
                raise Refusal(429, "too_fast", retry_after=wait)
        except Refusal as refusal:
            return refuse(refusal, language, origin)
        record = services.personal_data.consent(bot, version, keep)
        return JSONResponse(
            {"conversation_id": record.conversation_id, "keep": keep},
            status_code=201,
            headers={**cors_headers(origin), "Cache-Control": "no-store"},
        )

    @router.post("/api/bots/{bot}/chat")
    async def chat(request: Request, bot: str) -> Response:
        language = visitor_language(None, request.headers.get("accept-language"))
        origin: str | None = None
        try:
            profile = profile_of(bot)
            origin = check_origin(request, bot, profile)
            limits = profile.limits
            body = await _read_body(request, limits.max_message_chars)
            message, conversation_id = _parse(body)
            # Nothing the customer typed is looked at before they agreed to the notice.
            agreed = conversation_id and services.personal_data.consent_of(bot, conversation_id)
            if not agreed:
                raise Refusal(428, "consent_required")
            language = visitor_language(message, request.headers.get("accept-language"))
            if not message.strip():
                raise Refusal(400, "empty")
            if len(message) > limits.max_message_chars:
                raise Refusal(413, "too_long", limit=limits.max_message_chars)
            turns = services.live.turns(agreed.conversation_id)
            if turns is None:  # not in memory (a restart): what was kept, masked
                turns = services.conversations.turns(bot, agreed.conversation_id)
            if len(turns) >= limits.max_turns:
                raise Refusal(409, "conversation_full")
            visitor = addresses.of(request)
            per_visitor = limits.visitor_messages_per_minute
            if (wait := visitors.allow(f"{bot}\0{visitor}", per_visitor)) is not None:
                raise Refusal(429, "too_fast", retry_after=wait)
            if (wait := whole_bots.allow(bot, limits.bot_messages_per_minute)) is not None:
                raise Refusal(429, "bot_busy", retry_after=wait)
            bot_slots = slots.setdefault(
                bot, AnswerSlots(server.concurrent_answers, server.waiting_answers)
            )
            if not await bot_slots.acquire():
                raise Refusal(503, "bot_busy", retry_after=30)
        except Refusal as refusal:
            return refuse(refusal, language, origin)

        history = [Turn(q, a) for q, a in turns]  # the chain keeps answering.history_turns
        headers = {
            **cors_headers(origin),
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx: pass each event on at once
        }
        # The slot is given back when the generation has ended, not when the visitor left.
        return AnswerStream(
            lambda stop: _answer_events(services, bot, message, history, agreed, profile, stop),
            on_end=bot_slots.release,
            headers=headers,
        )

    @router.post("/api/bots/{bot}/answers/{answer_id}/rating")
    async def rate(request: Request, bot: str, answer_id: int) -> Response:
        """A customer's thumbs up or down on an answer of their own conversation:
        {"conversation_id": ..., "rating": "up" | "down" | null}."""
        language = visitor_language(None, request.headers.get("accept-language"))
        origin: str | None = None
        try:
            origin = check_origin(request, bot, profile_of(bot))
            body = _json_object(await _read_body(request, 200))
            conversation_id, value = body.get("conversation_id"), body.get("rating")
            if not isinstance(conversation_id, str) or value not in ("up", "down", None):
                raise Refusal(400, "bad_request")
            visitor = addresses.of(request)
            if (wait := raters.allow(f"{bot}\0{visitor}", _RATINGS_PER_MINUTE)) is not None:
                raise Refusal(429, "too_fast", retry_after=wait)
            if not 0 < answer_id < 2**63:  # the database's integers: no overflow, a clear 404
                raise Refusal(404, "bad_request")
            rating = {"up": 1, "down": -1, None: None}[value]
            if not services.conversations.rate(bot, conversation_id, answer_id, rating):
                raise Refusal(404, "bad_request")
        except Refusal as refusal:
            return refuse(refusal, language, origin)
        return Response(status_code=204, headers=cors_headers(origin))

    @router.get("/api/bots/{bot}/conversations/{conversation_id}")
    def transcript(request: Request, bot: str, conversation_id: str) -> Response:
        """The turns of a conversation, so that a page opened later can show it again."""
        language = visitor_language(None, request.headers.get("accept-language"))
        origin: str | None = None
        try:
            origin = check_origin(request, bot, profile_of(bot))
            agreed = agreed_conversation(bot, conversation_id)
        except Refusal as refusal:
            return refuse(refusal, language, origin)
        turns = services.conversations.transcript(bot, conversation_id)
        consent = {"notice_version": agreed.notice_version, "keep": agreed.keep}
        return JSONResponse(
            {"conversation_id": conversation_id, "consent": consent, "turns": turns},
            headers={**cors_headers(origin), "Cache-Control": "no-store"},
        )

    @router.delete("/api/bots/{bot}/conversations/{conversation_id}")
    def erase(request: Request, bot: str, conversation_id: str) -> Response:
        """The customer deletes their own conversation: knowing its id is the proof."""
        language = visitor_language(None, request.headers.get("accept-language"))
        origin: str | None = None
        try:
            origin = check_origin(request, bot, profile_of(bot))
            agreed_conversation(bot, conversation_id)
        except Refusal as refusal:
            return refuse(refusal, language, origin)
        erase_own_conversation(services, ConversationRef(bot, conversation_id))
        return Response(status_code=204, headers=cors_headers(origin))

    return router


def _answer_events(
    services: Services,
    bot: str,
    message: str,
    history: list[Turn],
    consent: Consent,
    profile: BotProfile,
    stop: Stop,
) -> Generator[bytes, None, None]:
    conversation_id = consent.conversation_id
    answerer = services.answerer(bot)
    # The answer's language, known before the answer: the page's waiting text, sources and
    # buttons are in it from the start (not in the previous message's).
    language = answerer.language_for(message)
    yield _sse("start", {"conversation_id": conversation_id, "language": language})
    answering = answerer.stream(message, history, stop)
    try:
        with closing(answering):  # our stream closed early closes the chain's, and the model's
            for event in answering:
                if isinstance(event, Delta):
                    yield _sse("delta", {"text": event.text})
                elif isinstance(event, Replace):
                    yield _sse("replace", {"text": event.text})
                elif isinstance(event, Done):
                    answer = event.answer
                    services.live.add(conversation_id, message, answer.text)
                    answer_id = None  # a conversation not kept has nothing to rate
                    if consent.keep:
                        business = contact_keys(f"{profile.contact_text()} {profile.whatsapp}")
                        answer_id = services.conversations.record(
                            bot, conversation_id, answer, spare=business
                        )
                        services.personal_data.remember_contacts(bot, conversation_id, message)
                    yield _sse(
                        "done",
                        {
                            "answer": answer.text,
                            "answered": answer.answered,
                            "fallback": answer.fallback,
                            "kind": answer.kind,
                            "language": answer.language,
                            "sources": [s.as_json() for s in answer.sources],
                            "conversation_id": conversation_id,
                            "answer_id": answer_id,
                            "kept": consent.keep,
                        },
                    )
    except Exception:  # the chain turns model failures into answers; this is a bug
        log.exception("answering failed for bot %s", bot)
        language = visitor_language(message, None)
        yield _sse("error", {"error": "failed", "message": text(language, "failed")})


async def _read_body(request: Request, max_chars: int) -> bytes:
    """The JSON body, refused as soon as it is longer than a message of `max_chars` can make
    (4 bytes a character, escaped, plus the envelope): a huge upload is never read whole."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise Refusal(415, "bad_request")
    limit = max_chars * 12 + 4096  # \uXXXX escapes of surrogate pairs: 12 bytes a character
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, "too_long", limit=max_chars)
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > limit:
            raise Refusal(413, "too_long", limit=max_chars)
    return bytes(body)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
        # A lone surrogate ("\ud800") is valid JSON but no text: it cannot be stored or sent.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError) as exc:  # RecursionError: [[[[...]]]]
        raise Refusal(400, "bad_request") from exc
    if not isinstance(data, dict):
        raise Refusal(400, "bad_request")
    return data


def _parse(body: bytes) -> tuple[str, str | None]:
    data = _json_object(body)
    if not isinstance(data.get("message"), str):
        raise Refusal(400, "bad_request")
    conversation_id = data.get("conversation_id")
    if not isinstance(conversation_id, str) or not _CONVERSATION_ID.match(conversation_id):
        conversation_id = None  # then there is no consent to chat under
    return data["message"], conversation_id
