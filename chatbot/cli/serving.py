"""Serving customers: serve, demo, and the embed code for a bot's website."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chatbot.cli.common import BotOption, _fail, _print_report, _services, app, err
from chatbot.services import Services

DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"  # shipped inside the package
DEMO_BOT = "demo-shop"

HostOption = Annotated[
    str | None, typer.Option("--host", help="Address to listen on [default 127.0.0.1].")
]
PortOption = Annotated[int | None, typer.Option("--port", min=1, max=65535, help="Port [7860].")]


def _serve(services: Services, bots: list[str] | None, host: str | None, port: int | None) -> None:
    """Serve `bots`, or (None) every bot, those created while it runs included."""
    import uvicorn

    from chatbot.web.app import create_app

    server = services.settings.server
    host, port = host or server.host, port or server.port
    names = bots if bots is not None else services.bot_names()
    services.warm_up(*names)
    for bot in names:
        if not services.knowledge(bot).documents():
            err.print(f"note: bot {bot!r} has no documents yet; its chat says it is not ready")
    chat_model = services.chat_model
    app = create_app(services, bots)
    from chatbot.actions.privacy import PurgeSchedule
    from chatbot.actions.websites import WebsiteSchedule

    # Conversations past their bot's retention period go, from start-up on, hourly; websites
    # are read again when due (daily by default).
    PurgeSchedule(services, services.settings.privacy.purge_every_minutes * 60).start()
    services.alerts.start()  # e-mail and webhooks owed, from every server
    services.whatsapp.start()  # WhatsApp messages received, handled off the webhook
    WebsiteSchedule(services, services.settings.crawl.schedule_check_s).start()
    from chatbot.llm.base import label  # LangChain's models: not for every command

    model = label(chat_model) if chat_model else "none (extract mode)"
    if names:
        where = f"serving {', '.join(names)} on http://{host}:{port}/chat/{names[0]}/"
    else:
        where = f"no bots yet: make one in the console, http://{host}:{port}/admin/, or with"
        where += " `chatbot bots create NAME`; serving"
    err.print(f"{where} (model: {model})")
    # On SIGTERM (`docker stop`) open streams get a few seconds to end, then are cut: a
    # generation that is stuck must not keep the process alive until it is killed.
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)


@app.command()
def serve(
    bots: Annotated[
        list[str] | None, typer.Option("--bot", "-b", help="Bots to serve [default: all].")
    ] = None,
    host: HostOption = None,
    port: PortOption = None,
) -> None:
    """Serve the customer chat of each bot, with /healthz and /readyz."""
    services = _services()
    for bot in bots or []:
        if not services.bots.exists(bot):
            _fail(f"there is no bot {bot!r}; `chatbot bots list` shows them")
    # Zero bots, or bots without documents, are how a deployment starts: it serves anyway.
    _serve(services, bots or None, host, port)


@app.command()
def demo(host: HostOption = None, port: PortOption = None) -> None:
    """Set up the demo bot of a fictional Penang phone-repair shop and serve it."""
    import yaml

    from chatbot.actions.knowledge import ingest_files
    from chatbot.settings import BotProfile

    services = _services()
    folder = DEMO_DIR
    if not (folder / "documents").is_dir():
        _fail(f"the demo documents are missing from {folder}; reinstall the package")
    profile = yaml.safe_load((folder / "bot.yaml").read_text(encoding="utf-8"))
    # Stored like any bot's (once: staff's later changes stay), so that `chatbot bots set` and
    # the console, in other processes, see and change the demo's real profile.
    services.bots.import_profile(DEMO_BOT, BotProfile(**profile))
    # Like any upload: recorded and audited (unchanged files on later runs are skipped).
    report = ingest_files(services, DEMO_BOT, [folder / "documents"], "system:demo")
    _print_report(report, as_json=False)
    _serve(services, [DEMO_BOT], host, port)


@app.command("embed-code")
def embed_code(
    bot: BotOption = "default",
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="The address customers reach this server at [http://HOST:PORT]."
        ),
    ] = None,
) -> None:
    """The two snippets that put a bot on a website: an iframe, or a chat-bubble script."""
    from chatbot.web.snippets import embed_snippets

    services = _services()
    if not services.bots.exists(bot):
        _fail(f"there is no bot {bot!r}; `chatbot bots list` shows them")
    server = services.settings.server
    base = (url or f"http://{server.host}:{server.port}").rstrip("/")
    iframe, script = embed_snippets(base, bot, services.profile(bot).title)
    origins = services.profile(bot).allowed_origins
    print("<!-- 1. the chat inside your page -->")
    print(iframe)
    print("<!-- 2. or a chat bubble in the corner of every page -->")
    print(script)
    if not origins:
        err.print(
            f"note: no site may embed {bot!r} yet; allow yours with"
            f" `chatbot bots set {bot} allowed_origins+=https://your-shop.example`"
        )


@app.command()
def worker(
    name: Annotated[str, typer.Option("--name", help="How this worker is named in logs.")] = "",
) -> None:
    """Ingest uploads queued by any server (with database.url on PostgreSQL); run as many as
    the machines allow. Stops on SIGTERM or Ctrl-C, its job taken over by another worker."""
    services = _services()
    if not services.has_job_queue:
        _fail("a worker takes jobs from the PostgreSQL database: set database.url to one")
    services.embedder.embed_query("warm-up")  # the first job does not pay for loading it
    queue = services.job_queue()
    err.print(f"worker {name or 'worker'}: taking ingest jobs")
    queue.run_worker(stalled_after_s=services.settings.jobs.stalled_after_s, name=name or None)
