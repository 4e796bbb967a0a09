"""`chatbot sites`: the websites a bot reads, read again on demand, or no longer read."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from chatbot.cli.common import BotOption, JsonOption, _fail, _services, app

sites_app = typer.Typer(
    help="The websites a bot reads (add one with `chatbot ingest --bot NAME https://...`):"
    " list them, read them again, stop reading one.",
    no_args_is_help=True,
)
app.add_typer(sites_app, name="sites")


@sites_app.command("list")
def list_sites(bot: BotOption = "default", as_json: JsonOption = False) -> None:
    """Each site with when it was last read and what changed."""
    sites = _services().websites.of_bot(bot)
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "root": s.root,
                        "every_hours": s.every_hours,
                        "last_read_at": s.last_read_at,
                        "last_report": s.last_report,
                    }
                    for s in sites
                ],
                ensure_ascii=False,
            )
        )
        return
    if not sites:
        print(f"bot {bot!r} reads no website; add one with: chatbot ingest --bot {bot} https://…")
        return
    for site in sites:
        when = (
            time.strftime("%Y-%m-%d %H:%M", time.localtime(site.last_read_at))
            if site.last_read_at
            else "never"
        )
        every = f"every {site.every_hours:g} h" if site.every_hours else "on demand"
        summary = (site.last_report or {}).get("summary", "")
        print(f"{site.root}  last read {when} ({every}): {summary}")


@sites_app.command("read")
def read_sites(bot: BotOption = "default", as_json: JsonOption = False) -> None:
    """Read each of the bot's sites again now: changed pages replaced, vanished ones forgotten."""
    from chatbot.cli.knowledge import _read_site

    services = _services()
    sites = services.websites.of_bot(bot)
    if not sites:
        _fail(f"bot {bot!r} reads no website; add one with: chatbot ingest --bot {bot} https://…")
    failed = False
    for site in sites:
        failed |= _read_site(services, bot, site.root, False, as_json)
    if failed:
        raise typer.Exit(1)


@sites_app.command("every")
def every(
    address: Annotated[
        str, typer.Argument(help="The site's address, as `chatbot sites list` shows it.")
    ],
    hours: Annotated[float, typer.Argument(help="Hours between two reads; 0: only when asked.")],
    bot: BotOption = "default",
) -> None:
    """How often the running server reads a site again (new sites: crawl.every_hours, 24)."""
    from chatbot.actions.websites import schedule_website
    from chatbot.store.audit import command_line_actor

    site = schedule_website(_services(), bot, address, hours, command_line_actor())
    said = f"every {site.every_hours:g} hours" if site.every_hours else "only when asked"
    print(f"{site.root} is read again {said}")


@sites_app.command("remove")
def remove_site(
    address: Annotated[
        str, typer.Argument(help="The site's address, as `chatbot sites list` shows it.")
    ],
    bot: BotOption = "default",
) -> None:
    """Stop reading a site and forget its pages."""
    from chatbot.actions.websites import remove_website
    from chatbot.store.audit import command_line_actor

    forgotten = remove_website(_services(), bot, address, command_line_actor())
    print(f"no longer reading {address}; {forgotten} of its pages forgotten")
