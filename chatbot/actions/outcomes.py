"""What became of a bot's conversations over a period, as the console and `chatbot outcomes`
show it: the rates (chatbot/inbox/outcomes.py defines them), per week and per language, and
the conversations behind each figure, with the first question of those kept."""

from __future__ import annotations

import time
from dataclasses import dataclass

from chatbot.inbox.outcomes import Figures, Outcome, figures, grouped, judge, week_of
from chatbot.services import Services
from chatbot.store.outcomes import OutcomeRow


@dataclass(frozen=True, slots=True)
class Report:
    total: Figures
    weeks: dict[str, Figures]  # by the Monday a week begins, oldest first
    languages: dict[str, Figures]  # by the first question's language, most conversations first
    channels: dict[str, Figures]
    open: int  # conversations with questions, not yet ended: counted once they are


@dataclass(frozen=True, slots=True)
class Behind:
    """One conversation behind a figure."""

    conversation_id: str
    started_at: float
    channel: str
    language: str
    outcome: Outcome
    first_question: str  # "" when the customer chose not to keep the conversation
    csat: int | None


def report(services: Services, bot: str, days: float = 30, now: float | None = None) -> Report:
    now = time.time() if now is None else now
    judged = _judged(services, bot, now - days * 86400, now)
    languages = grouped(judged, lambda r: r.language)
    return Report(
        total=figures(judged),
        weeks=grouped(judged, week_of),
        languages=dict(sorted(languages.items(), key=lambda kv: -kv[1].conversations)),
        channels=grouped(judged, lambda r: r.channel),
        open=sum(outcome is Outcome.OPEN for _, outcome in judged),
    )


def behind(
    services: Services,
    bot: str,
    outcome: Outcome | None = None,
    *,
    days: float = 30,
    language: str | None = None,
    now: float | None = None,
) -> list[Behind]:
    """The conversations with that outcome (None: all), newest first."""
    now = time.time() if now is None else now
    chosen = [
        (row, found)
        for row, found in _judged(services, bot, now - days * 86400, now)
        if (outcome is None or found is outcome) and language in (None, row.language)
    ]
    chosen.reverse()
    firsts = services.conversations.first_questions(bot, [row.conversation_id for row, _ in chosen])
    return [
        Behind(
            row.conversation_id,
            row.started_at,
            row.channel,
            row.language,
            found,
            firsts.get(row.conversation_id, ""),
            row.csat,
        )
        for row, found in chosen
    ]


def _judged(
    services: Services, bot: str, since: float, now: float
) -> list[tuple[OutcomeRow, Outcome]]:
    ended_after_s = services.settings.outcomes.ended_after_minutes * 60
    return judge(services.outcomes.since(bot, since), now, ended_after_s)
