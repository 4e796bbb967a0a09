"""The chat API: `POST /api/bots/<bot>/chat`, a customer's message in, the answer out as
server-sent events; the consent that starts a conversation, ratings, a conversation read back
or erased, and the public profile a page shows. The server describes it at /api/openapi.json.

The embed page (/embed/<bot>), the launcher and any other front end (a WhatsApp bridge, an app)
all chat through here, under one set of rules, checked before any work is done:
- the Origin: a browser page may call only from the server's own pages or a site the bot allows;
  a request without Origin is not from a browser page (a bridge, curl) and is let through;
- the size of the body (read no further than a message can be) and of the message; the number
  of questions in one conversation;
- the rate per visitor (by network address, see visitors.py) and per bot;
- the answers generated at once; a few more wait, beyond that the visitor is told to come back.
A refusal is raised as `Refusal` anywhere in a route or its dependencies; one exception handler
turns it into JSON `{"error": code, "message": <polite text in the visitor's language>}` with the
HTTP status that says why, so that a page can show the message as it is.

Privacy first: a conversation begins with the customer's agreement to the bot's privacy notice,
`POST /api/bots/<bot>/consent` {"notice_version", "keep": true | false}, which answers
{"conversation_id"}; a chat message without such a conversation is refused (428) unread. A kept
conversation is stored with personal data masked; one not kept is only held in memory while it
runs. `DELETE /api/bots/<bot>/conversations/<id>` erases it (the customer's own right).

Stream: `start` {"conversation_id", "language"}, then `delta` {"text"} pieces, `replace` {"text"}
when what was shown must be taken back (mode `generate` only), and `done` {"answer", "answered",
"fallback", "kind", "language", "sources", "conversation_id", "answer_id", "kept"}. The customer
may then rate the answer: `POST /api/bots/<bot>/answers/<answer_id>/rating`. `done` also says
where the conversation stands (`state`: bot, waiting for a person, staff: a person has it).

A person (chatbot/inbox): while staff have the conversation, a message is kept for them and
answered `done` with kind `relayed` and no text; a bot answer that a person's take-over
overtook is withdrawn (`replace` with no text, then `done` with kind `withheld`). What staff
say reaches the page through `GET /api/bots/<bot>/conversations/<id>/events` (server-sent
events `message` and `state`, each `message` with its id, so that a page reconnecting with
Last-Event-ID misses nothing), and is in the transcript when the page comes back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Generator
from contextlib import closing
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import (
    BaseModel,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)
from starlette.concurrency import run_in_threadpool

from chatbot.actions.chat import business_contacts, conclude
from chatbot.actions.chat import history as chat_history
from chatbot.actions.leads import LeadRefused, take_lead
from chatbot.actions.privacy import erase_own_conversation
from chatbot.answering.chain import Stop, Turn
from chatbot.answering.result import Answer, Delta, Done, Replace
from chatbot.limits.rates import Limiter
from chatbot.privacy.notice import notice_texts, notice_version
from chatbot.services import Services
from chatbot.settings import BotProfile
from chatbot.store.inbox import Reply
from chatbot.store.leads import LeadDetails
from chatbot.store.personal_data import Consent, ConversationRef, conversation_key
from chatbot.web.answer_stream import AnswerStream
from chatbot.web.origins import ForeignOrigin, allowed_caller
from chatbot.web.visitor_text import TEXTS, text, visitor_language
from chatbot.web.visitors import VisitorAddress

log = logging.getLogger(__name__)

_CONVERSATION_ID = re.compile(r"^[0-9a-f]{32}$")
_RATINGS_PER_MINUTE = 30  # per visitor: a rating costs nothing but a row
_CONSENTS_PER_MINUTE = 30  # per visitor: each starts a conversation, a row
_SMALL_BODY_CHARS = 200  # consent and rating bodies hold no text of the customer's
_LEADS_PER_MINUTE = 5  # per visitor: each is a row staff act on
_LEAD_BODY_CHARS = 2600
_EVENT_STREAMS_PER_MINUTE = 20  # per visitor: a page reconnects about once a minute
_EVENTS_POLL_S = 1.0  # a staff reply reaches the page within this and a round trip
_EVENTS_STREAM_S = 55.0  # then the stream ends and the page reconnects (proxies cut idle ones)


class Refusal(Exception):
    """A request the chat will not answer; `key` names the visitor text that says why."""

    def __init__(self, status: int, key: str, retry_after: float | None = None, **values: object):
        super().__init__(key)
        self.status, self.key, self.retry_after, self.values = status, key, retry_after, values


# -- request bodies ---------------------------------------------------------------------------
class ConsentBody(BaseModel):
    """The customer agreed to this version of the privacy notice, to keep the conversation or
    not."""

    notice_version: StrictStr = Field(max_length=64)
    keep: StrictBool


class ChatBody(BaseModel):
    message: StrictStr = Field(description="What the customer wrote.")
    conversation_id: str | None = Field(
        None, description="The conversation the consent began; without it the message is refused."
    )

    @field_validator("conversation_id", mode="before")
    @classmethod
    def _ours_or_none(cls, value: Any) -> str | None:
        # Anything but an id the server made is no conversation: the message is then refused
        # for want of consent (428), as a missing one is, not as a malformed body.
        return value if isinstance(value, str) and _CONVERSATION_ID.match(value) else None


class LeadBody(BaseModel):
    """What a customer leaves for a call back, having been told what for (the page shows
    `texts.lead_purpose` with the bot's retention period)."""

    name: StrictStr = Field("", max_length=200)
    phone: StrictStr = Field("", max_length=60)
    email: StrictStr = Field("", max_length=320)
    message: StrictStr = Field("", max_length=2000)


class RatingBody(BaseModel):
    conversation_id: StrictStr
    rating: Literal["up", "down"] | None


class FeedbackBody(BaseModel):
    score: StrictInt = Field(ge=1, le=5)  # 1 very bad … 5 very good


Body = TypeVar("Body", bound=BaseModel)


class RefusalBody(BaseModel):
    """Why the request was refused: every 4xx and 503 of the chat API has this body, with a
    Retry-After header on 429 and 503."""

    error: str = Field(
        description="What was refused, as a code: bad_request, empty, not_allowed, unknown_bot,"
        " gone, notice_changed, conversation_full, too_long, consent_required, too_fast,"
        " bot_busy, disk_full, storage_failed, lead_contact_missing, lead_bad_phone,"
        " lead_bad_email, too_long_lead."
    )
    message: str = Field(description="The same in plain words, in the visitor's language.")


_WHY = {
    400: "The body, a path parameter or the message could not be read, or the message is empty.",
    403: "Sent by a browser page of a site this bot does not allow (its Origin).",
    404: "No such bot, conversation or answer (erased, past its retention, or never one).",
    409: "The privacy notice changed since it was agreed to, or the conversation is full.",
    413: "The body or the message is longer than this bot allows.",
    415: "The body is not JSON (Content-Type: application/json).",
    428: "No consent: the customer must agree to the privacy notice first (POST .../consent).",
    429: "Too many requests from this visitor or to this bot: try again after Retry-After.",
    503: "The bot is answering as many as it can, or the server cannot store or read now:"
    " try again after Retry-After.",
}


def _refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The refusals a route gives, for the OpenAPI document; 400, 403, 404 and 503 any route
    may give (a path it cannot read, a page of another site, a bot unknown, a store down)."""
    every = sorted({400, 403, 404, 503, *codes})
    return {code: {"model": RefusalBody, "description": _WHY[code]} for code in every}


def _documented(model: type[BaseModel]) -> dict[str, Any]:
    # The body is read by `_body` (bounded, before it is parsed), not by FastAPI: this puts
    # its schema in the OpenAPI document all the same.
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


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


async def _body(request: Request, model: type[Body], max_chars: int) -> Body:
    raw = await _read_body(request, max_chars)
    try:
        data = json.loads(raw)
        # A lone surrogate ("\ud800") is valid JSON but no text: it cannot be stored or sent.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
        return model.model_validate(data)
    except (ValueError, UnicodeError, RecursionError, ValidationError) as exc:
        raise Refusal(400, "bad_request") from exc  # RecursionError: [[[[...]]]]


# -- what every route needs: the services, the visitor's language, the bot, the caller ----------
def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def browser_language_of(request: Request) -> str:
    """The visitor's language from their browser, until their message says otherwise; kept on
    the request for the refusal handler."""
    language = visitor_language(None, request.headers.get("accept-language"))
    request.state.language = language
    return language


def profile_of(
    bot: str,
    services: Annotated[Services, Depends(services_of)],
    _: Annotated[str, Depends(browser_language_of)],
) -> BotProfile:
    # Any bot of the deployment: one created in the console chats without a restart.
    if not services.bots.known(bot):
        raise Refusal(404, "unknown_bot")
    return services.profile(bot)


def origin_of(
    request: Request, bot: str, profile: Annotated[BotProfile, Depends(profile_of)]
) -> str | None:
    """The calling page's origin when the bot allows it (None: not a browser page); refused
    (403) otherwise. Kept on the request: a refusal after this point carries its CORS headers."""
    addresses: VisitorAddress = request.app.state.addresses
    try:
        origin = allowed_caller(request, profile.allowed_origins, addresses)
    except ForeignOrigin as exc:
        log.info("chat with %s refused: the site %s is not allowed", bot, exc)
        raise Refusal(403, "not_allowed") from exc
    request.state.origin = origin
    return origin


Profile = Annotated[BotProfile, Depends(profile_of)]
Origin = Annotated[str | None, Depends(origin_of)]
Language = Annotated[str, Depends(browser_language_of)]


def public_profile(bot: str, profile: BotProfile, language: str) -> dict[str, Any]:
    """What a visitor's page may know of a bot: no contact details or persona, only looks."""
    notices = notice_texts(profile)
    return {
        "bot": bot,
        "title": profile.title,
        "greeting": profile.greeting,
        "suggestions": profile.suggestions,
        "colour": profile.colour,
        "avatar": profile.avatar,
        "max_chars": profile.limits.max_message_chars,
        "retention_days": profile.retention_days,  # said where the customer leaves a contact
        "language": language,
        "texts": TEXTS,
        # Shown, and agreed to, before the customer's first message.
        "privacy": {"version": notice_version(notices), "notice": notices},
    }


def cors_headers(origin: str | None) -> dict[str, str]:
    if origin is None:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def install_refusals(app: FastAPI) -> None:
    """The one place a refusal becomes the visitor's polite JSON."""

    async def refused(request: Request, refusal: Exception) -> Response:
        assert isinstance(refusal, Refusal)
        # A refused message is read for its language only here, when it is refused: an
        # answered one is read once, by the answering chain.
        message = getattr(request.state, "message", None)
        accept = request.headers.get("accept-language")
        language = (
            visitor_language(message, accept)
            if message
            else getattr(request.state, "language", None) or browser_language_of(request)
        )
        origin = getattr(request.state, "origin", None)
        headers = cors_headers(origin)
        if refusal.retry_after is not None:
            headers["Retry-After"] = str(round(refusal.retry_after))
        body = {"error": refusal.key, "message": text(language, refusal.key, **refusal.values)}
        return JSONResponse(body, status_code=refusal.status, headers=headers)

    async def invalid(request: Request, error: Exception) -> Response:
        # A path or query FastAPI cannot read (an answer id that is no number) on the chat API
        # is a bad request like any other, in the visitor's words; elsewhere FastAPI's own.
        if request.url.path.startswith("/api/"):
            return await refused(request, Refusal(400, "bad_request"))
        assert isinstance(error, RequestValidationError)
        return await request_validation_exception_handler(request, error)

    app.add_exception_handler(Refusal, refused)
    app.add_exception_handler(RequestValidationError, invalid)
    described = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI lists a 422 for every route with parameters; the chat API answers those
        # requests with 400 (`invalid` above), which each route documents.
        document = described()
        for path, operations in document.get("paths", {}).items():
            if path.startswith("/api/"):
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


_PREFLIGHT_PATHS = (
    "/api/bots/{bot}/chat",
    "/api/bots/{bot}/consent",
    "/api/bots/{bot}/conversations/{conversation_id}",
    "/api/bots/{bot}/answers/{answer_id}/rating",
    "/api/bots/{bot}/conversations/{conversation_id}/events",
    "/api/bots/{bot}/conversations/{conversation_id}/lead",
    "/api/bots/{bot}/conversations/{conversation_id}/feedback",
)


def chat_router(services: Services, addresses: VisitorAddress) -> APIRouter:
    router = APIRouter(tags=["chat"])
    visitors, whole_bots = services.rate_limiter("visitor"), services.rate_limiter("bot")
    raters, consenting = services.rate_limiter("rating"), services.rate_limiter("consent")
    listening = services.rate_limiter("events")
    leaving = services.rate_limiter("lead")

    async def limited(limiter: Limiter, key: str, per_minute: int, refusal: str) -> None:
        # In a thread: a shared limit is a round trip to Redis or the database.
        if (wait := await run_in_threadpool(limiter.allow, key, per_minute)) is not None:
            raise Refusal(429, refusal, retry_after=wait)

    def agreed_conversation(bot: str, token: str) -> Consent:
        """The consent that began the conversation of this bot that the customer's token opens
        (kept under the token's key, see conversation_key); 404 when there is none."""
        agreed = _CONVERSATION_ID.match(token) and (
            services.personal_data.consent_of(bot, conversation_key(token))
        )
        if not agreed:
            raise Refusal(404, "gone")  # erased, past its retention, or never ours
        return agreed

    def preflight(origin: Origin) -> Response:
        headers = {
            **cors_headers(origin),
            "Access-Control-Allow-Methods": "GET, POST, DELETE",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }
        return Response(status_code=204, headers=headers)

    for path in _PREFLIGHT_PATHS:
        router.add_api_route(path, preflight, methods=["OPTIONS"], include_in_schema=False)

    @router.get("/api/bots/{bot}/profile", responses=_refusals())
    def profile(bot: str, settings: Profile, origin: Origin, language: Language) -> Response:
        """What a visitor's page may know of a bot (its looks, greeting and privacy notice; no
        contact details or persona)."""
        return JSONResponse(
            public_profile(bot, settings, language),
            headers={**cors_headers(origin), "Cache-Control": "no-store"},
        )

    @router.post(
        "/api/bots/{bot}/consent",
        status_code=201,
        openapi_extra=_documented(ConsentBody),
        responses=_refusals(409, 413, 415, 429),
    )
    async def consent(request: Request, bot: str, settings: Profile, origin: Origin) -> Response:
        """The customer agreed to the privacy notice: a conversation starts."""
        body = await _body(request, ConsentBody, _SMALL_BODY_CHARS)
        if body.notice_version != notice_version(notice_texts(settings)):
            raise Refusal(409, "notice_changed")  # agreed to words no longer shown
        visitor = addresses.of(request)
        await limited(consenting, f"{bot}\0{visitor}", _CONSENTS_PER_MINUTE, "too_fast")
        _, token = services.personal_data.consent(bot, body.notice_version, body.keep)
        return JSONResponse(
            {"conversation_id": token, "keep": body.keep},
            status_code=201,
            headers={**cors_headers(origin), "Cache-Control": "no-store"},
        )

    @router.post(
        "/api/bots/{bot}/chat",
        openapi_extra=_documented(ChatBody),
        responses=_refusals(409, 413, 415, 428, 429),
    )
    async def chat(request: Request, bot: str, settings: Profile, origin: Origin) -> Response:
        """The answer to a customer's message, as server-sent events (text/event-stream)."""
        limits = settings.limits
        body = await _body(request, ChatBody, limits.max_message_chars)
        # Nothing the customer typed is looked at before they agreed to the notice.
        token = body.conversation_id or ""
        agreed = token and services.personal_data.consent_of(bot, conversation_key(token))
        if not agreed:
            raise Refusal(428, "consent_required")
        message = body.message
        request.state.message = message  # a refusal from here on is in the message's language
        if not message.strip():
            raise Refusal(400, "empty")
        if len(message) > limits.max_message_chars:
            raise Refusal(413, "too_long", limit=limits.max_message_chars)
        history = await run_in_threadpool(chat_history, services, bot, agreed.conversation_id)
        if len(history) >= limits.max_turns:
            raise Refusal(409, "conversation_full")
        visitor = addresses.of(request)
        await limited(visitors, f"{bot}\0{visitor}", limits.visitor_messages_per_minute, "too_fast")
        headers = {
            **cors_headers(origin),
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx: pass each event on at once
        }
        spare = business_contacts(settings)
        if await run_in_threadpool(
            services.desk.relay, bot, agreed.conversation_id, message, spare
        ):  # a person has the conversation: the bot is silent
            relayed = _relayed_events(token, agreed.keep, visitor_language(message, None))
            return StreamingResponse(relayed, media_type="text/event-stream", headers=headers)
        await limited(whole_bots, bot, limits.bot_messages_per_minute, "bot_busy")
        release = await services.answer_slots(bot).acquire()
        if release is None:
            raise Refusal(503, "bot_busy", retry_after=30)

        # The slot is given back when the generation has ended, not when the visitor left.
        return AnswerStream(
            lambda stop: _answer_events(
                services, bot, message, history, agreed, token, settings, spare, stop
            ),
            on_end=release,
            headers=headers,
        )

    @router.post(
        "/api/bots/{bot}/answers/{answer_id}/rating",
        status_code=204,
        openapi_extra=_documented(RatingBody),
        responses=_refusals(413, 415, 429),
    )
    async def rate(request: Request, bot: str, answer_id: int, origin: Origin) -> Response:
        """A customer's thumbs up or down (or none) on an answer of their own conversation."""
        body = await _body(request, RatingBody, _SMALL_BODY_CHARS)
        await limited(raters, f"{bot}\0{addresses.of(request)}", _RATINGS_PER_MINUTE, "too_fast")
        if not 0 < answer_id < 2**63:  # the database's integers: no overflow, a clear 404
            raise Refusal(404, "bad_request")
        rating = {"up": 1, "down": -1, None: None}[body.rating]
        key = conversation_key(body.conversation_id)
        if not services.conversations.rate(bot, key, answer_id, rating):
            raise Refusal(404, "bad_request")
        services.outcomes.rated(bot, key, rating)
        return Response(status_code=204, headers=cors_headers(origin))

    @router.post(
        "/api/bots/{bot}/conversations/{conversation_id}/feedback",
        status_code=204,
        openapi_extra=_documented(FeedbackBody),
        responses=_refusals(413, 415, 429),
    )
    async def feedback(
        request: Request, bot: str, conversation_id: str, origin: Origin
    ) -> Response:
        """The customer's rating of their whole conversation, 1 to 5 (one tap, asked when they
        say thanks or goodbye, or when a person closes it): the console's CSAT."""
        agreed = await run_in_threadpool(agreed_conversation, bot, conversation_id)
        body = await _body(request, FeedbackBody, _SMALL_BODY_CHARS)
        await limited(raters, f"{bot}\0{addresses.of(request)}", _RATINGS_PER_MINUTE, "too_fast")
        if not await run_in_threadpool(
            services.outcomes.feedback, bot, agreed.conversation_id, body.score
        ):
            raise Refusal(404, "gone")  # nothing was asked in it: there is nothing to rate
        return Response(status_code=204, headers=cors_headers(origin))

    @router.get("/api/bots/{bot}/conversations/{conversation_id}", responses=_refusals())
    def transcript(bot: str, conversation_id: str, origin: Origin) -> Response:
        """The turns of a kept conversation, so that a page opened later can show it again."""
        agreed = agreed_conversation(bot, conversation_id)
        turns = services.conversations.transcript(bot, agreed.conversation_id)
        consent = {"notice_version": agreed.notice_version, "keep": agreed.keep}
        desk = services.desk.store
        standing = desk.standing(bot, agreed.conversation_id)
        messages = [m.as_json() for m in desk.messages(bot, agreed.conversation_id)]
        return JSONResponse(
            {
                "conversation_id": conversation_id,
                "consent": consent,
                "turns": turns,
                "state": standing.state if standing else "bot",
                "messages": messages,
            },
            headers={**cors_headers(origin), "Cache-Control": "no-store"},
        )

    @router.get(
        "/api/bots/{bot}/conversations/{conversation_id}/events",
        responses={
            **_refusals(429),
            200: {"content": {"text/event-stream": {}}, "description": "The events."},
        },
    )
    async def events(request: Request, bot: str, conversation_id: str, origin: Origin) -> Response:
        """What staff say to the customer and where the conversation stands, as server-sent
        events (`message` {"id", "at", "author": staff | event, "name", "text"}; `state`
        {"state"}) for about a minute; the page then reconnects, with Last-Event-ID."""
        agreed = await run_in_threadpool(agreed_conversation, bot, conversation_id)
        visitor = addresses.of(request)
        await limited(listening, f"{bot}\0{visitor}", _EVENT_STREAMS_PER_MINUTE, "too_fast")
        after = request.headers.get("last-event-id", "") or request.query_params.get("after", "")
        headers = {**cors_headers(origin), "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        stream = _desk_events(
            services, request, bot, agreed.conversation_id, int(after) if after.isdigit() else 0
        )
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)

    @router.post(
        "/api/bots/{bot}/conversations/{conversation_id}/lead",
        status_code=201,
        openapi_extra=_documented(LeadBody),
        responses=_refusals(413, 415, 429),
    )
    async def lead(request: Request, bot: str, conversation_id: str, origin: Origin) -> Response:
        """The customer's name and phone number or e-mail address, for a call back."""
        agreed = await run_in_threadpool(agreed_conversation, bot, conversation_id)
        body = await _body(request, LeadBody, _LEAD_BODY_CHARS)
        await limited(leaving, f"{bot}\0{addresses.of(request)}", _LEADS_PER_MINUTE, "too_fast")
        # The page's language (it sends it), which refusals use too: a name and a phone
        # number say nothing of it.
        language = visitor_language(None, request.headers.get("accept-language"))
        details = LeadDetails(body.name, body.phone, body.email, body.message)
        try:
            await run_in_threadpool(
                take_lead, services, bot, agreed.conversation_id, details, language
            )
        except LeadRefused as exc:
            raise Refusal(400, exc.key) from exc
        said = text(language, "lead_taken")
        return JSONResponse(
            {"message": said},
            status_code=201,
            headers={**cors_headers(origin), "Cache-Control": "no-store"},
        )

    @router.delete(
        "/api/bots/{bot}/conversations/{conversation_id}",
        status_code=204,
        responses=_refusals(),
    )
    def erase(bot: str, conversation_id: str, origin: Origin) -> Response:
        """The customer deletes their own conversation: knowing its id is the proof."""
        agreed = agreed_conversation(bot, conversation_id)
        erase_own_conversation(services, ConversationRef(bot, agreed.conversation_id))
        return Response(status_code=204, headers=cors_headers(origin))

    return router


def _answer_events(
    services: Services,
    bot: str,
    message: str,
    history: list[Turn],
    consent: Consent,
    token: str,
    profile: BotProfile,
    spare: frozenset[str],
    stop: Stop,
) -> Generator[bytes, None, None]:
    """The answer's events. The customer is told their own token (`conversation_id` on the
    wire); everything kept is kept under the conversation's key, masked but for the business's
    own contacts (`spare`)."""
    answerer = services.answerer(bot)
    # The message read once (its language, terms, figures, whether it follows up), carried to
    # every step. Its language is known before the answer: the page's waiting text, sources
    # and buttons are in it from the start (not in the previous message's).
    try:
        question = answerer.read(message, history)
        yield _sse("start", {"conversation_id": token, "language": question.language})
        answering = answerer.stream(question, history, stop)
        with closing(answering):  # our stream closed early closes the chain's, and the model's
            for event in answering:
                if isinstance(event, Delta):
                    yield _sse("delta", {"text": event.text})
                elif isinstance(event, Replace):
                    yield _sse("replace", {"text": event.text})
                elif isinstance(event, Done):
                    answer = event.answer
                    # Decided now, as it would be sent: a person who took the conversation
                    # over while the bot answered has it, and the bot's answer is withdrawn.
                    concluded = conclude(
                        services, bot, profile, consent, message, question, answer, spare
                    )
                    settled, answer_id = concluded.settled, concluded.answer_id
                    if not settled.shown:
                        yield _sse("replace", {"text": ""})
                        yield _sse("done", _silent_done(token, consent.keep, "withheld", answer))
                        return
                    yield _sse(
                        "done",
                        {
                            "answer": answer.text,
                            "answered": answer.answered,
                            "fallback": answer.fallback,
                            "kind": answer.kind,
                            "language": answer.language,
                            "sources": [s.as_json() for s in answer.sources],
                            "conversation_id": token,
                            "answer_id": answer_id,
                            "kept": consent.keep,
                            "state": _state_after(settled.reply),
                            # No one can answer now: the page offers to take their contact.
                            "lead": settled.offer_lead,
                            # Closing ("thanks", "bye"): ask how it went, with one tap.
                            "feedback": concluded.ask_feedback,
                        },
                    )
    except Exception:  # the chain turns model failures into answers; this is a bug
        log.exception("answering failed for bot %s", bot)
        language = visitor_language(message, None)  # the message may not have been read
        yield _sse("error", {"error": "failed", "message": text(language, "failed")})


def _state_after(reply: Reply) -> str:
    waiting = (Reply.HANDED_OFF, Reply.STILL_WAITING, Reply.WHILE_WAITING)
    return "waiting" if reply in waiting else "bot"


def _silent_done(token: str, kept: bool, kind: str, answer: Answer | None = None) -> dict[str, Any]:
    """`done` for a message the bot does not answer: kept for the person who has it (relayed),
    or an answer a person's take-over overtook (withheld)."""
    return {
        "answer": "",
        "answered": False,
        "fallback": None,
        "kind": kind,
        "language": answer.language if answer else None,
        "sources": [],
        "conversation_id": token,
        "answer_id": None,
        "kept": kept,
        "state": "staff",
    }


async def _relayed_events(token: str, kept: bool, language: str) -> AsyncIterator[bytes]:
    yield _sse("start", {"conversation_id": token, "language": language})
    done = _silent_done(token, kept, "relayed")
    yield _sse("done", {**done, "language": language})


async def _desk_events(
    services: Services, request: Request, bot: str, conversation_id: str, after: int
) -> AsyncIterator[bytes]:
    """Staff's messages and the conversation's state as they change, read from the database
    every server shares, for one stream's time."""
    store = services.desk.store
    ends = time.monotonic() + _EVENTS_STREAM_S
    shown_state = None
    yield b"retry: 2000\n\n"
    while time.monotonic() < ends and not await request.is_disconnected():
        standing = await run_in_threadpool(store.standing, bot, conversation_id)
        state = standing.state.value if standing else "bot"
        if state != shown_state:
            shown_state = state
            yield _sse("state", {"state": state})
        for message in await run_in_threadpool(store.messages, bot, conversation_id, after):
            after = message.id
            if message.author != "customer":  # the page shows the customer's own already
                yield f"id: {message.id}\n".encode() + _sse("message", message.as_json())
        await asyncio.sleep(_EVENTS_POLL_S)
