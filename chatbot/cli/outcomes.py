"""`chatbot outcomes`: what became of a bot's conversations (automation, involvement,
resolution and handoff rates, CSAT), per week and per language: the console's "How it is
doing" figures, for scripts and reports."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from chatbot.cli.common import BotOption, JsonOption, _services, app
from chatbot.inbox.outcomes import Figures, percent

DaysOption = Annotated[
    float, typer.Option("--days", min=1, help="The period: this many days back from now.")
]


@app.command("outcomes")
def outcomes(bot: BotOption, days: DaysOption = 30, as_json: JsonOption = False) -> None:
    """Automation, involvement, resolution and handoff rates and CSAT, per week and language
    (docs/OUTCOMES.md says how each is counted)."""
    from chatbot.actions.outcomes import report

    made = report(_services(), bot, days)
    if as_json:
        shown = {
            "days": days,
            "total": made.total.as_json(),
            "still_open": made.open,
            "weeks": {week: f.as_json() for week, f in made.weeks.items()},
            "languages": {lang: f.as_json() for lang, f in made.languages.items()},
            "channels": {name: f.as_json() for name, f in made.channels.items()},
        }
        typer.echo(json.dumps(shown, indent=2))
        return
    t = made.total
    typer.echo(f"Last {days:g} days: {t.conversations} conversations, {made.open} still open.")
    typer.echo(_line("all", t))
    for week, f in made.weeks.items():
        typer.echo(_line(f"week of {week}", f))
    for language, f in made.languages.items():
        typer.echo(_line(f"in {language}", f))


def _line(name: str, f: Figures) -> str:
    return (
        f"{name:20} {f.conversations:5} conversations  automation {percent(f.automation):>4}"
        f"  involvement {percent(f.involvement):>4}  resolution {percent(f.resolution):>4}"
        f"  handoff {percent(f.handoff):>4}  CSAT {percent(f.csat):>4} ({f.rated} rated)"
    )
