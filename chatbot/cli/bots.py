"""`chatbot bots`: create, show, change and delete bots and their profiles."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from chatbot.cli.common import JsonOption, _fail, _services, app

bots_app = typer.Typer(
    help="Create, show, change and delete bots and their profiles (title, colour, greeting,"
    " suggested questions, allowed sites, limits).",
    no_args_is_help=True,
)
app.add_typer(bots_app, name="bots")

Assignments = Annotated[
    list[str] | None,
    typer.Argument(
        help="name=value pairs, e.g. greeting='Hi!' allowed_origins+=https://shop.example"
        " limits.max_turns=20; lists take a JSON array or comma-separated items.",
        show_default=False,
    ),
]


def _show_profile(name: str, as_json: bool) -> None:
    services = _services()
    data = services.profile(name).model_dump(mode="json")
    if as_json:
        print(json.dumps({"name": name, **data}, ensure_ascii=False, indent=2))
        return
    print(f"bot: {name}")
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, item in value.items():
                print(f"{key}.{sub}: {item}")
        elif isinstance(value, list):
            print(f"{key}: {', '.join(value) if value else '(none)'}")
        else:
            print(f"{key}: {value}")


@bots_app.command("list")
def bots_list(as_json: JsonOption = False) -> None:
    """The bots, with their title and whether they have documents."""
    services = _services()
    rows = []
    for name in services.bot_names():
        documents = len(services.knowledge(name).documents())
        rows.append({"name": name, "title": services.profile(name).title, "documents": documents})
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
    elif not rows:
        print("no bots yet: `chatbot bots create NAME` or `chatbot ingest --bot NAME PATH`")
    else:
        for row in rows:
            print(f"{row['name']}\t{row['documents']} documents\t{row['title']}")


@bots_app.command("create")
def bots_create(
    name: Annotated[str, typer.Argument(help="The bot's name: a-z, 0-9, - and _.")],
    assignments: Assignments = None,
) -> None:
    """Create a bot, optionally setting its profile at once."""
    from chatbot.actions.bots import create_bot
    from chatbot.bots.registry import parse_assignments
    from chatbot.settings import BotProfile
    from chatbot.store.accounts import Role
    from chatbot.store.audit import command_line_actor

    services = _services()
    changes = parse_assignments(assignments or [], BotProfile())
    create_bot(services, name, changes, command_line_actor(), Role.OWNER)
    print(f"created bot {name}; add documents with `chatbot ingest --bot {name} PATH`")


@bots_app.command("show")
def bots_show(
    name: Annotated[str, typer.Argument(help="The bot.")], as_json: JsonOption = False
) -> None:
    """A bot's profile."""
    services = _services()
    if not services.bots.exists(name):
        _fail(f"there is no bot {name!r}; `chatbot bots list` shows them")
    _show_profile(name, as_json)


@bots_app.command("set")
def bots_set(
    name: Annotated[str, typer.Argument(help="The bot.")], assignments: Assignments = None
) -> None:
    """Change a bot's profile; a running server applies it to the next request."""
    from chatbot.bots.registry import parse_assignments

    if not assignments:
        _fail("nothing to set: give name=value pairs, e.g. greeting='Hello!'", 2)
    services = _services()
    if not services.bots.exists(name):
        _fail(f"there is no bot {name!r}; create it with `chatbot bots create {name}`")
    from chatbot.actions.bots import change_bot
    from chatbot.store.accounts import Role
    from chatbot.store.audit import command_line_actor

    changes = parse_assignments(assignments, services.profile(name))
    change_bot(services, name, changes, command_line_actor(), Role.OWNER)
    _show_profile(name, as_json=False)


@bots_app.command("delete")
def bots_delete(
    name: Annotated[str, typer.Argument(help="The bot.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a bot with its knowledge base and conversations."""
    services = _services()
    if not services.bots.exists(name):
        _fail(f"there is no bot {name!r}")
    if not yes and not typer.confirm(
        f"Delete bot {name!r} with its documents and conversations?", err=True
    ):
        raise typer.Exit(1)
    from chatbot.actions.bots import delete_bot
    from chatbot.store.audit import command_line_actor

    delete_bot(services, name, command_line_actor())
    print(f"deleted bot {name}")
