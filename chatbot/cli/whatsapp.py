"""`chatbot whatsapp ...`: a bot's WhatsApp number on Meta's Cloud API (docs/WHATSAPP.md)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from chatbot.actions.whatsapp import callback_url
from chatbot.cli.common import BotOption, JsonOption, _services, app
from chatbot.store.accounts import Role
from chatbot.store.audit import command_line_actor
from chatbot.store.personal_data import iso

whatsapp_app = typer.Typer(
    help="WhatsApp: a bot's number on Meta's Cloud API; its state and replies sent.",
    no_args_is_help=True,
)
app.add_typer(whatsapp_app, name="whatsapp")


@whatsapp_app.command("connect")
def whatsapp_connect(
    bot: BotOption,
    phone_number_id: Annotated[
        str, typer.Option(help="The number's id in the Meta app (API Setup), digits.")
    ] = "",
    access_token: Annotated[
        str,
        typer.Option(
            envvar="WHATSAPP_ACCESS_TOKEN",
            help="A system user's permanent token (or set WHATSAPP_ACCESS_TOKEN).",
        ),
    ] = "",
    app_secret: Annotated[
        str,
        typer.Option(
            envvar="WHATSAPP_APP_SECRET",
            help="The Meta app's secret, which signs its webhooks (or WHATSAPP_APP_SECRET).",
        ),
    ] = "",
    verify_token: Annotated[
        str, typer.Option(help="Your verify token for the callback URL [made for you].")
    ] = "",
    template: Annotated[
        str,
        typer.Option(help="An approved template with one body parameter, for replies past 24 h."),
    ] = "",
    template_language: Annotated[str, typer.Option(help="The template's language code.")] = "en",
) -> None:
    """Set the bot's WhatsApp number (an option left out keeps what was set); prints the
    callback URL, the verify token, and whether Meta accepts the token."""
    from chatbot.actions.whatsapp import check, connect

    services = _services()
    token = connect(
        services,
        command_line_actor(),
        Role.OWNER,
        bot,
        phone_number_id=phone_number_id,
        access_token=access_token,
        app_secret=app_secret,
        verify_token=verify_token,
        template=template,
        template_language=template_language,
    )
    typer.echo(f"WhatsApp number {phone_number_id or '(as before)'} set for {bot}.")
    typer.echo(f"Callback URL: {callback_url(services, bot)}")
    typer.echo(f"Verify token: {token}")
    typer.echo(check(services, bot).said)


@whatsapp_app.command("show")
def whatsapp_show(bot: BotOption, as_json: JsonOption = False) -> None:
    """The bot's WhatsApp number and its state (secrets by their last characters only)."""
    from chatbot.actions.whatsapp import view

    shown = view(_services(), bot)
    if shown is None:
        typer.echo(f"{bot} has no WhatsApp number.")
        return
    row = {
        "phone_number_id": shown.phone_number_id,
        "access_token": shown.access_token,
        "app_secret": shown.app_secret,
        "verify_token": shown.verify_token,
        "template": shown.template,
        "template_language": shown.template_language,
        "callback": shown.callback_url,
        "problem": shown.problem,
    }
    if as_json:
        typer.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    for key, value in row.items():
        typer.echo(f"{key:18} {value}")


@whatsapp_app.command("check")
def whatsapp_check(bot: BotOption) -> None:
    """Ask Meta whether the access token still opens the number."""
    from chatbot.actions.whatsapp import check

    checked = check(_services(), bot)
    typer.echo(checked.said)
    if not checked.ok:
        raise typer.Exit(1)


@whatsapp_app.command("disconnect")
def whatsapp_disconnect(bot: BotOption) -> None:
    """Remove the bot's WhatsApp number (its customers' conversations stay, as kept)."""
    from chatbot.actions.whatsapp import disconnect

    disconnect(_services(), command_line_actor(), Role.OWNER, bot)
    typer.echo(f"{bot} has no WhatsApp number now.")


@whatsapp_app.command("sent")
def whatsapp_sent(bot: BotOption, as_json: JsonOption = False) -> None:
    """The latest replies sent on WhatsApp, newest first: state (sent, delivered, read,
    failed), attempts and Meta's last word; never their text or number."""
    rows = [
        {
            "id": m.id,
            "at": iso(m.at),
            "kind": m.kind,
            "state": m.state,
            "attempts": m.attempts,
            "outcome": m.outcome,
        }
        for m in _services().whatsapp.store.outgoing(bot)
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("Nothing sent yet.")
    for row in rows:
        typer.echo(
            f"{row['id']}  {row['at']}  {row['kind']:9} {row['state']:9} x{row['attempts']}"
            f"  {row['outcome']}"
        )
