"""`create_app(services, bots)`: the FastAPI host, health checks and each bot's chat page."""

from __future__ import annotations

import logging
from typing import Any

from chatbot.llm.base import ModelUnavailable, check, label, servers
from chatbot.offline import switch_off_phoning_home
from chatbot.services import Services
from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)


def create_app(services: Services, bots: list[str] | None = None) -> Any:
    """`bots`: the bots /readyz and / speak for; None, every bot, those made later included."""
    switch_off_phoning_home()  # before any web library is imported (Services did it too)
    from contextlib import asynccontextmanager

    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, RedirectResponse

    from chatbot.web.answer_stream import stop_all_answers

    @asynccontextmanager
    async def lifespan(_: Any) -> Any:
        yield
        stop_all_answers()  # SIGTERM: answers in flight end at their next token

    app = FastAPI(
        title="chatbot",
        summary="The chat API of customer-support bots grounded in a business's documents.",
        docs_url=None,  # no page that loads a UI from a CDN; the document itself is served
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    from chatbot.web.visitors import VisitorAddress

    # Read once: who the visitor is, behind the trusted proxies, for every route and the console.
    addresses = VisitorAddress(services.settings.server.trusted_proxies)
    app.state.services = services  # the routes' dependencies find these here
    app.state.addresses = addresses

    from sqlalchemy.exc import OperationalError

    @app.exception_handler(OperationalError)
    @app.exception_handler(OSError)
    async def storage_failed(request: Any, exc: Exception) -> Any:
        # A full disk (or a database that cannot be written) is the operator's to fix: say so,
        # with 503, rather than a bare 500; the failed write was rolled back.
        full = "full" in str(exc).lower() or getattr(exc, "errno", None) == 28
        log.error("storage failed on %s: %s", request.url.path, exc)
        message = (
            "The server's disk is full; please try again later."
            if full
            else ("The server cannot store data right now; please try again later.")
        )
        return JSONResponse(
            {"error": "disk_full" if full else "storage_failed", "message": message},
            status_code=503,
            headers={"Retry-After": "60"},
        )

    def served_bots() -> list[str]:
        return list(bots) if bots is not None else services.bot_names()

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        responses={503: {"description": "Not ready: the body's `problems` says what is wrong."}},
    )
    def readyz() -> Any:
        # A bot without documents does not make the server unready: it is how every bot starts,
        # and the console, where documents are added, must stay reachable. It is reported.
        problems: dict[str, str] = {}
        empty: list[str] = []
        served = served_bots()
        for bot in served:
            try:
                knowledge = services.knowledge(bot)
                if not knowledge.documents():
                    empty.append(bot)
                knowledge.check_vectors()  # a Chroma server that went down is seen here
            except KnowledgeError as exc:
                problems[bot] = str(exc)
        model = services.chat_model
        for asked in services.models_asked(served):  # one never asked is not loaded for this
            try:
                check(asked)
            except ModelUnavailable as exc:
                problems["model"] = str(exc)
        if services.shared_state is not None:
            from chatbot.shared_state import SharedStateUnavailable

            try:
                services.shared_state.check()
            except SharedStateUnavailable as exc:
                problems["shared_state"] = str(exc)
        # The model may load and still answer nobody: a request stuck waiting for it says so.
        limit = services.settings.answering.max_generation_s
        silence = services.generations.longest_silence_s()
        if silence > limit:
            problems["answers"] = (
                f"a request has had no token from the model for {silence:.0f} s"
                f" (answering.max_generation_s is {limit:g})"
            )
        # A WhatsApp number Meta refuses (an expired token) is reported, not made a reason to
        # take the server out of service: the web chat still answers, and the owner's fix is
        # a new token, which no restart brings.
        whatsapp = services.whatsapp.store.problems()
        body = {
            "ready": not problems,
            "bots": served,
            "bots_without_documents": empty,
            "model": label(model) if model else "none (extract mode)",
            "problems": problems,
            "whatsapp": {bot: whatsapp[bot] for bot in served if bot in whatsapp},
        }
        if model is not None and (each := servers(model)):
            body["model_servers"] = each  # several Ollama servers: which are up
        return JSONResponse(body, status_code=200 if not problems else 503)

    from fastapi.staticfiles import StaticFiles

    from chatbot.web.chat_api import chat_router, install_refusals
    from chatbot.web.embed import STATIC, embed_router

    install_refusals(app)
    app.include_router(chat_router(services, addresses))
    app.include_router(embed_router(services))
    from chatbot.web.whatsapp_webhook import whatsapp_router

    app.include_router(whatsapp_router(services))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> Any:
        served = served_bots()
        # No bot yet: the console is where the first one is made.
        return RedirectResponse(f"/chat/{served[0]}/" if served else "/admin/")

    import os

    from chatbot.web.admin_auth import COOKIE, admin_auth
    from chatbot.web.console_uploads import ConsoleUploads

    # Gradio keeps uploads in GRADIO_TEMP_DIR (read when the console is mounted): a folder of
    # our own data directory, private to the service's user, rather than the shared /tmp.
    max_file_bytes = int(services.settings.ingest.max_file_mb * 1024 * 1024)
    uploads = ConsoleUploads(
        services.settings.data_dir / "console-uploads",
        "/admin/gradio_api/upload",
        COOKIE,
        max_file_bytes,
    )
    os.environ["GRADIO_TEMP_DIR"] = str(uploads.folder)

    import gradio as gr

    from chatbot.web.console import build_console, console_theme
    from chatbot.web.customer_export import customer_export_router
    from chatbot.web.origins import server_origin

    app.include_router(admin_auth(services, app, addresses))
    app.include_router(customer_export_router(services))
    # The embed snippets name this server as the staff member's browser reaches it.
    console = build_console(services, lambda request: server_origin(request, addresses), uploads)
    app.middleware("http")(uploads.watch)
    app.middleware("http")(uploads.guard)
    app = gr.mount_gradio_app(
        app,
        console,
        path="/admin",
        theme=console_theme(),
        footer_links=[],
        ssr_mode=False,  # server-side rendering would need a Node.js server beside us
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        max_file_size=max_file_bytes,
    )
    return app
