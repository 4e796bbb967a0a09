"""The customer chat: `/embed/<bot>` (a page for an iframe), `/widget.js` (the launcher), and the
same page on its own at `/chat/<bot>/`.

The page is plain HTML and a small script over the chat API (chat_api.py), not Gradio: it must
size itself to any frame down to a 360 px phone, carry a strict Content-Security-Policy whose
frame-ancestors lists the sites the bot allows, so that no other site can show it, and chat under
the API's rules (origins, sizes, rates), which a Gradio app's own endpoints would sidestep.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from string import Template
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from chatbot.services import Services
from chatbot.settings import BotProfile
from chatbot.web.chat_api import public_profile
from chatbot.web.origins import frame_ancestors
from chatbot.web.visitor_text import browser_language, text

STATIC = Path(__file__).parent / "static"


def _csp(profile: BotProfile) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' https: data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {frame_ancestors(profile.allowed_origins)}",
        ]
    )


def _json_for_html(data: dict[str, Any]) -> str:
    # Inside <script type="application/json">: "<" escaped so no text can close the element.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def embed_router(services: Services) -> APIRouter:
    router = APIRouter(include_in_schema=False)  # pages and a script, not the API
    page = Template((STATIC / "embed.html").read_text(encoding="utf-8"))
    widget = (STATIC / "widget.js").read_bytes()

    @router.get("/embed/{bot}", response_class=HTMLResponse)
    @router.get("/chat/{bot}/", response_class=HTMLResponse)  # the same chat as a page of its own
    def embed(request: Request, bot: str) -> Response:
        language = browser_language(request.headers.get("accept-language"))
        if not services.bots.known(bot):
            return HTMLResponse(
                f"<!doctype html><meta charset=utf-8><p>{escape(text(language, 'unknown_bot'))}",
                status_code=404,
            )
        profile = services.profile(bot)
        html = page.substitute(
            lang=language,
            title=escape(profile.title),
            config=_json_for_html(public_profile(bot, profile, language)),
        )
        headers = {
            "Content-Security-Policy": _csp(profile),
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",  # allowed sites may change at any time
        }
        return HTMLResponse(html, headers=headers)

    @router.get("/widget.js")
    def widget_js() -> Response:
        return Response(
            widget,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    return router
