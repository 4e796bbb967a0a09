"""`chatbot inbox ...`: the conversations waiting for a person, and staff's part in them, from
the command line (the console's Inbox tab does the same in the browser)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Annotated

import typer

from chatbot.cli.common import BotOption, JsonOption, _services, app
from chatbot.store.audit import command_line_actor
from chatbot.store.personal_data import ConversationRef

inbox_app = typer.Typer(
    help="Conversations handed to a person: list, read, reply, hand back, close.",
    no_args_is_help=True,
)
app.add_typer(inbox_app, name="inbox")

ConversationArg = Annotated[str, typer.Argument(help="The conversation's id (see `inbox list`).")]


@inbox_app.command("list")
def inbox_list(bot: BotOption, as_json: JsonOption = False) -> None:
    """Waiting for a person (longest first), with a person, then live with the bot."""
    from chatbot.actions.inbox import inbox, standing_json

    now = time.time()
    rows = [standing_json(s, now) for s in inbox(_services(), bot)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("No conversation waits for a person or is live.")
    for row in rows:
        waited = f" for {row['waiting_s'] // 60} min" if row["waiting_s"] is not None else ""
        who = f" ({row['staff']})" if row["staff"] else ""
        typer.echo(f"{row['conversation_id']}  {row['state']}{waited}{who}")


@inbox_app.command("show")
def inbox_show(bot: BotOption, conversation: ConversationArg, as_json: JsonOption = False) -> None:
    """A conversation whole (audited: a customer's personal data seen)."""
    from chatbot.actions.inbox import read_conversation

    ref = ConversationRef(bot, conversation.strip().lower())
    standing, entries = read_conversation(_services(), command_line_actor(), ref)
    state = standing.state.value if standing else "bot"
    if as_json:
        lines = [{"at": e.at, "who": e.who, "name": e.name, "text": e.text} for e in entries]
        typer.echo(json.dumps({"state": state, "entries": lines}, ensure_ascii=False, indent=2))
        return
    typer.echo(f"state: {state}")
    for entry in entries:
        at = datetime.fromtimestamp(entry.at).strftime("%H:%M") if entry.at else "--:--"
        who = f"{entry.who} {entry.name}".strip()
        typer.echo(f"{at} {who}: {entry.text}")


@inbox_app.command("reply")
def inbox_reply(bot: BotOption, conversation: ConversationArg, text: str) -> None:
    """Reply to the customer (takes the conversation over: the bot stops answering it)."""
    from chatbot.actions.inbox import reply

    reply(_services(), command_line_actor(), ConversationRef(bot, conversation.strip()), text)
    typer.echo("Sent.")


@inbox_app.command("take")
def inbox_take(bot: BotOption, conversation: ConversationArg) -> None:
    """Take the conversation over: the bot stops answering it."""
    from chatbot.actions.inbox import take_over

    take_over(_services(), command_line_actor(), ConversationRef(bot, conversation.strip()))
    typer.echo("Taken over: the bot is silent until you hand it back or close it.")


@inbox_app.command("hand-back")
def inbox_hand_back(bot: BotOption, conversation: ConversationArg) -> None:
    """Let the bot answer the conversation again."""
    from chatbot.actions.inbox import hand_back

    hand_back(_services(), command_line_actor(), ConversationRef(bot, conversation.strip()))
    typer.echo("Handed back to the bot.")


@inbox_app.command("close")
def inbox_close(bot: BotOption, conversation: ConversationArg) -> None:
    """Close the conversation (the customer's next message starts with the bot again)."""
    from chatbot.actions.inbox import close

    close(_services(), command_line_actor(), ConversationRef(bot, conversation.strip()))
    typer.echo("Closed.")
