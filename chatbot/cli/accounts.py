"""`chatbot admin`: staff accounts."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from chatbot.cli.common import JsonOption, _fail, _services, app

admin_app = typer.Typer(
    help="Staff accounts of the console at /admin: owners (everything) and editors (knowledge"
    " and bot settings).",
    no_args_is_help=True,
)
app.add_typer(admin_app, name="admin")


BotsOption = Annotated[
    list[str] | None,
    typer.Option("--bot", help="A bot the account may see (again for each); none: every bot."),
]


def _new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return password


PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (scripts)."),
]


@admin_app.command("create")
def admin_create(
    username: Annotated[str, typer.Argument(help="The user name to log in with.")],
    role: Annotated[
        str, typer.Option("--role", help="owner (everything) or editor (knowledge, bots).")
    ] = "owner",
    password_stdin: PasswordStdin = False,
    bots: BotsOption = None,
) -> None:
    """Create a staff account (asks for the password; there is no default one); with --bot,
    one of a shop's staff, who sees only those bots."""
    from chatbot.store.accounts import Role
    from chatbot.store.audit import command_line_actor

    if role not in {r.value for r in Role}:
        _fail(f"role {role!r} is not one of: owner, editor", 2)
    from chatbot.actions.accounts import create_account

    password = _new_password(password_stdin)
    create_account(_services(), username, password, Role(role), command_line_actor(), bots)
    where = f" of {', '.join(bots)}" if bots else ""
    print(f"created {role}{where} {username}; log in at /admin")


@admin_app.command("bots")
def admin_bots(
    username: Annotated[str, typer.Argument(help="The account.")],
    bots: BotsOption = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every bot: one of the firm's own staff.")
    ] = False,
) -> None:
    """Limit an account to some bots (--bot, again for each) or give it every bot (--all)."""
    from chatbot.actions.accounts import limit_account
    from chatbot.store.audit import command_line_actor

    if every == bool(bots):
        _fail("give --bot NAME (once for each bot) or --all", 2)
    account = limit_account(_services(), username, None if every else bots, command_line_actor())
    seen = "every bot" if account.bots is None else ", ".join(sorted(account.bots))
    print(f"{account.username} sees {seen}")


@admin_app.command("list")
def admin_list(as_json: JsonOption = False) -> None:
    """The staff accounts and their roles."""
    rows: list[dict[str, Any]] = [
        {
            "username": account.username,
            "role": account.role.value,
            "bots": None if account.bots is None else sorted(account.bots),
            "disabled": disabled,
        }
        for account, disabled in _services().accounts.all()
    ]
    if as_json:
        print(json.dumps(rows))
    elif not rows:
        print("no accounts yet: `chatbot admin create NAME`")
    else:
        for row in rows:
            bots = "every bot" if row["bots"] is None else ", ".join(row["bots"]) or "no bot"
            disabled = "  (disabled)" if row["disabled"] else ""
            print(f"{row['username']}\t{row['role']}\t{bots}{disabled}")


@admin_app.command("passwd")
def admin_passwd(
    username: Annotated[str, typer.Argument(help="The account.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set an account's password; its open sessions end."""
    from chatbot.actions.accounts import set_password
    from chatbot.store.audit import command_line_actor

    set_password(_services(), username, _new_password(password_stdin), command_line_actor())
    print(f"password of {username} changed")


@admin_app.command("remove")
def admin_remove(username: Annotated[str, typer.Argument(help="The account.")]) -> None:
    """Remove a staff account (not the last owner)."""
    from chatbot.actions.accounts import remove_account
    from chatbot.store.audit import command_line_actor

    remove_account(_services(), username, command_line_actor())
    print(f"removed {username}")
