"""`chatbot webhooks ...`: where a bot's events are posted, signed, and what was delivered
(e-mail alerts included)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from chatbot.cli.common import BotOption, JsonOption, _services, app
from chatbot.store.accounts import Role
from chatbot.store.audit import command_line_actor
from chatbot.store.personal_data import iso

webhooks_app = typer.Typer(
    help="Webhooks: a bot's events posted to your own tools, signed; deliveries and outcomes.",
    no_args_is_help=True,
)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("add")
def webhooks_add(
    bot: BotOption,
    url: Annotated[str, typer.Argument(help="Where to post, e.g. https://tools.example/hook.")],
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            help="handoff.requested, lead.created, conversation.closed or message.created;"
            " again for more [all].",
        ),
    ] = None,
) -> None:
    """Add a webhook; prints its signing secret, shown this once."""
    from chatbot.actions.alerts import add_webhook

    hook_id, secret = add_webhook(
        _services(), command_line_actor(), Role.OWNER, bot, url, list(event or [])
    )
    typer.echo(f"webhook {hook_id}: posts to {url}")
    typer.echo(f"signing secret (shown once; keep it in the receiver): {secret}")


@webhooks_app.command("list")
def webhooks_list(bot: BotOption, as_json: JsonOption = False) -> None:
    """The bot's webhooks and their events (never their secrets)."""
    from chatbot.actions.alerts import webhooks_of

    hooks = webhooks_of(_services(), bot)
    if as_json:
        rows = [
            {"id": h.id, "url": h.url, "events": h.events, "added_by": h.created_by} for h in hooks
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    for hook in hooks:
        typer.echo(f"{hook.id}  {hook.url}  {', '.join(hook.events)}")


@webhooks_app.command("remove")
def webhooks_remove(
    bot: BotOption, webhook: Annotated[int, typer.Argument(help="The webhook's number.")]
) -> None:
    """Remove a webhook; what it still owed is not sent."""
    from chatbot.actions.alerts import remove_webhook

    remove_webhook(_services(), command_line_actor(), Role.OWNER, bot, webhook)
    typer.echo(f"webhook {webhook} removed")


@webhooks_app.command("deliveries")
def webhooks_deliveries(bot: BotOption, as_json: JsonOption = False) -> None:
    """The latest e-mails and webhook posts, newest first: state, attempts, last outcome."""
    from chatbot.actions.alerts import deliveries_of

    rows = [
        {
            "id": d.id,
            "at": iso(d.created_at),
            "event": d.event,
            "channel": d.channel,
            "to": d.target,
            "state": d.state,
            "attempts": d.attempts,
            "outcome": d.outcome,
        }
        for d in deliveries_of(_services(), bot)
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("Nothing delivered yet.")
    for row in rows:
        typer.echo(
            f"{row['id']}  {row['at']}  {row['event']:19} {row['channel']:7} {row['state']:9}"
            f" x{row['attempts']}  {row['outcome']}  {row['to']}"
        )
