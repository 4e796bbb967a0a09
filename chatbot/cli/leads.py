"""`chatbot leads ...`: what customers left for a call back, from the command line (the
console's Inbox tab shows the same under Leads)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from chatbot.cli.common import BotOption, JsonOption, _services, app
from chatbot.store.audit import command_line_actor
from chatbot.store.leads import LeadStatus
from chatbot.store.personal_data import iso

leads_app = typer.Typer(
    help="Customers who asked to be contacted: list, show (audited), mark.",
    no_args_is_help=True,
)
app.add_typer(leads_app, name="leads")

LeadArg = Annotated[int, typer.Argument(help="The lead's number (see `leads list`).")]


@leads_app.command("list")
def leads_list(bot: BotOption, as_json: JsonOption = False) -> None:
    """The bot's leads, newest first; contact details partly hidden (`leads show` opens one)."""
    from chatbot.actions.leads import leads_of

    rows = [
        {
            "id": lead.id,
            "at": iso(lead.created_at),
            "status": lead.status.value,
            "name": lead.details.name if lead.details else "",
            "contact": lead.details.phone if lead.details else "",
            "about": lead.details.message if lead.details else "",
            "conversation_id": lead.conversation_id,
        }
        for lead in leads_of(_services(), bot)
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("No leads.")
    for row in rows:
        typer.echo(f"#{row['id']}  {row['at']}  {row['status']:9}  {row['name']}  {row['contact']}")


@leads_app.command("show")
def leads_show(bot: BotOption, lead: LeadArg, as_json: JsonOption = False) -> None:
    """One lead whole, to call back (audited: a customer's personal data seen)."""
    from chatbot.actions.leads import open_lead

    opened = open_lead(_services(), command_line_actor(), bot, lead)
    details = asdict(opened.details) if opened.details else {}
    record = {
        "id": opened.id,
        "at": iso(opened.created_at),
        "status": opened.status.value,
        "language": opened.language,
        "conversation_id": opened.conversation_id,
        **details,
    }
    if as_json:
        typer.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    for key, value in record.items():
        typer.echo(f"{key}: {value}")


@leads_app.command("status")
def leads_status(bot: BotOption, lead: LeadArg, status: LeadStatus) -> None:
    """Mark a lead new, contacted or done."""
    from chatbot.actions.leads import set_lead_status

    set_lead_status(_services(), command_line_actor(), bot, lead, status)
    typer.echo(f"Lead {lead}: {status.value}.")
