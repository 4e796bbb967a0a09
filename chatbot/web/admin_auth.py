"""The door of the staff console: /admin/login, /admin/logout, and a guard on everything else
under /admin (the Gradio console and its API included), which refuses any request without a
valid session: a page request is sent to the login page, anything else gets 401.

The session cookie is HttpOnly, SameSite=Strict and limited to /admin; logging in and out also
checks the Origin, so another site cannot post the forms.
"""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from chatbot.actions.accounts import log_in, log_out
from chatbot.services import Services
from chatbot.store.accounts import DEVICE_S, Account, LoginRefused
from chatbot.web.origins import request_origin, server_origin
from chatbot.web.visitors import VisitorAddress

log = logging.getLogger(__name__)

COOKIE = "chatbot_session"
# A browser where an account has logged in: others' failed logins do not lock it out there.
DEVICE_COOKIE = "chatbot_device"
ADMIN = "/admin"
# Password checks at once: each takes 32 MiB and 0.1 s of a core; more wait their turn.
_HASHING = anyio.CapacityLimiter(2)
_OPEN_PATHS = {f"{ADMIN}/login", f"{ADMIN}/logout"}
CONSOLE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval';"
    " style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:;"
    " font-src 'self' data:; connect-src 'self'; frame-src 'self'; worker-src 'self' blob:;"
    " object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
_LOGIN_PAGE = Template((Path(__file__).parent / "static" / "login.html").read_text("utf-8"))


def session_account(services: Services, request: Any) -> Account | None:
    """The staff account of a request (FastAPI's, or the one Gradio hands a handler)."""
    cookies = getattr(request, "cookies", None) or {}
    return services.accounts.session(cookies.get(COOKIE))


def _login_page(message: str = "", next_path: str = ADMIN + "/", status: int = 200) -> Response:
    html = _LOGIN_PAGE.substitute(
        message=f'<p class="error" role="alert">{escape(message)}</p>' if message else "",
        next=escape(next_path, quote=True),
    )
    headers = {
        "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'",
        "Cache-Control": "no-store",
    }
    return HTMLResponse(html, status_code=status, headers=headers)


def _safe_next(value: str | None) -> str:
    # Only back into the console: never an open redirect to another site.
    if value and value.startswith(ADMIN + "/") and not value.startswith("//"):
        return value
    return ADMIN + "/"


def admin_auth(services: Services, app: Any, addresses: VisitorAddress) -> APIRouter:
    """The login routes; also installs the guard on `app`."""
    router = APIRouter(include_in_schema=False)  # the console's, not the public API

    def same_site(request: Request) -> bool:
        origin = request_origin(request)
        return origin is None or origin == server_origin(request, addresses)

    def secure(request: Request) -> bool:
        return server_origin(request, addresses).startswith("https://")

    async def guard(request: Request, call_next: Any) -> Response:
        path = request.url.path
        guarded = path == ADMIN or (path.startswith(ADMIN + "/") and path not in _OPEN_PATHS)
        if guarded and session_account(services, request) is None:
            if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                target = quote(path if path != ADMIN else ADMIN + "/", safe="/")
                return RedirectResponse(f"{ADMIN}/login?next={target}", status_code=303)
            return JSONResponse({"error": "log in at /admin/login first"}, status_code=401)
        response: Response = await call_next(request)
        if guarded:
            # The console loads nothing from anywhere else: a customer's or a document's words
            # that got into a page as HTML still could not make the owner's browser fetch a
            # remote address or send data to one. (Gradio's page needs its inline script.)
            response.headers.setdefault("Content-Security-Policy", CONSOLE_POLICY)
        return response

    app.middleware("http")(guard)

    @router.get(f"{ADMIN}/login")
    def login_form(request: Request) -> Response:
        if services.accounts.count() == 0:
            return _login_page(
                "No staff account exists yet. Create one on the server: chatbot admin create NAME"
            )
        return _login_page(next_path=_safe_next(request.query_params.get("next")))

    @router.post(f"{ADMIN}/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        next_path = _safe_next(str(form.get("next", "")))
        if not same_site(request):
            return _login_page("This form must be sent from this site.", status=403)
        address, known = addresses.of(request), request.cookies.get(DEVICE_COOKIE)
        try:
            # scrypt takes about 0.1 s of a core: off the event loop, a few at a time, so that
            # logins (an attacker's many) never hold up customers' chats.
            _, token, device = await anyio.to_thread.run_sync(
                lambda: log_in(services, username, password, address, known), limiter=_HASHING
            )
        except LoginRefused as refused:
            status = 429 if refused.retry_after else 401
            return _login_page(str(refused)[:1].upper() + str(refused)[1:] + ".", next_path, status)
        response = RedirectResponse(next_path, status_code=303)
        response.set_cookie(
            DEVICE_COOKIE,
            device,
            max_age=DEVICE_S,
            path=ADMIN,
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(services.settings.admin.session_hours * 3600),
            path=ADMIN,
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )
        return response

    # GET too: Gradio's own logout link goes there, and must end the session rather than reach
    # Gradio's (which knows nothing of ours). The cookie is SameSite=Strict, so another site's
    # link or image sends none and logs nobody out.
    @router.get(f"{ADMIN}/logout")
    @router.post(f"{ADMIN}/logout")
    def logout(request: Request) -> Response:
        if not same_site(request):
            return JSONResponse({"error": "not from this site"}, status_code=403)
        log_out(services, request.cookies.get(COOKIE))
        response = RedirectResponse(f"{ADMIN}/login", status_code=303)
        response.delete_cookie(COOKIE, path=ADMIN)
        return response

    return router
