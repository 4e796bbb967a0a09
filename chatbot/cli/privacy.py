"""`chatbot privacy ...` and `chatbot audit ...`: customers' requests under the PDPA, the
retention purge, and the audit log's checks, from the command line."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from chatbot.cli.common import JsonOption, _fail, _services, app
from chatbot.store.audit import PERSONAL_DATA_ACTIONS, command_line_actor
from chatbot.store.personal_data import iso

privacy_app = typer.Typer(
    help="Customers' personal data: export, erase, and the retention purge.",
    no_args_is_help=True,
)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")
app.add_typer(audit_app, name="audit")

ConversationOption = Annotated[
    str | None, typer.Option("--conversation", help="The conversation id the customer sees.")
]
ContactOption = Annotated[
    str | None,
    typer.Option("--contact", help="An e-mail address or phone number the customer gave."),
]


def _find(conversation: str | None, contact: str | None):  # type: ignore[no-untyped-def]
    from chatbot.actions.privacy import find_customer

    if (conversation is None) == (contact is None):
        _fail("give either --conversation ID or --contact EMAIL_OR_PHONE", 2)
    return find_customer(
        _services(), command_line_actor(), conversation=conversation, contact=contact
    )


@privacy_app.command("export")
def privacy_export(
    conversation: ConversationOption = None,
    contact: ContactOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file [stdout].")
    ] = None,
) -> None:
    """Everything held of a customer's conversations, as JSON (access and portability)."""
    from chatbot.actions.privacy import export_customer

    refs = _find(conversation, contact)
    document = json.dumps(
        export_customer(_services(), command_line_actor(), refs), ensure_ascii=False, indent=2
    )
    if output is None:
        print(document)
        return
    # Readable by this user only: it holds a customer's conversations.
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(document + "\n")
    print(f"exported {len(refs)} conversations to {output}", file=sys.stderr)


@privacy_app.command("erase")
def privacy_erase(
    conversation: ConversationOption = None,
    contact: ContactOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a customer's conversations for good (consents and contacts too)."""
    from chatbot.actions.privacy import erase_customer

    refs = _find(conversation, contact)
    listed = ", ".join(f"{r.bot}/{r.conversation_id}" for r in refs)
    if not yes and not typer.confirm(f"erase {len(refs)} conversations ({listed})?", err=True):
        _fail("nothing erased", 1)
    erase_customer(_services(), command_line_actor(), refs)
    print(f"erased {len(refs)} conversations: {listed}")


@privacy_app.command("purge")
def privacy_purge() -> None:
    """Delete now what is past each bot's retention period (the server also does it hourly)."""
    from chatbot.actions.privacy import purge_expired

    removed = purge_expired(_services(), command_line_actor())
    print(f"purged {removed} rows past their bot's retention period")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check that no audit entry was changed or removed; exit 1 naming each one that was."""
    services = _services()
    problems, head = services.audit.verify()
    if problems:
        for problem in problems:
            print(f"audit log: {problem}", file=sys.stderr)
        raise typer.Exit(1)
    print(f"audit log intact; newest entry hash {head}")


def _when(value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        _fail(f"{value!r} is not a date like 2026-11-29 or 2026-11-29T14:00", 2)


@audit_app.command("report")
def audit_report(
    since: Annotated[
        str | None, typer.Option("--since", help="From this date/time [30 days ago].")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Up to this date/time [now].")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Whose personal data was viewed, exported or erased, by whom and when (for a breach
    notification or an access request)."""
    start = _when(since, time.time() - 30 * 86400)
    end = _when(until, time.time() + 1)
    entries = _services().audit.between(start, end, PERSONAL_DATA_ACTIONS)
    rows = [
        {"at": iso(e.at), "actor": e.actor, "action": e.action, "whose": e.target}
        | {"detail": e.detail}
        for e in entries
    ]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        print(f"no personal data was viewed, exported or erased from {iso(start)} to {iso(end)}")
        return
    for row in rows:
        print("\t".join(row.values()))
