"""What became of conversations, measured as Intercom measures its Fin AI agent (its "Fin AI
Agent report" and "resolutions" help articles), so that an owner can compare like with like:

- a conversation **involves** the bot when the bot tried to answer a question in it; one of
  greetings, thanks or a request for a person alone does not;
- it is **resolved** when, after the bot's last answer (an answer, not "I don't know"), the
  customer confirmed it helped (thanks, a thumbs up, a rating of 4 or 5: *confirmed*) or left
  without asking for more (no message for `outcomes.ended_after_minutes`: *assumed*); a request
  for a person, a person taking over, a thumbs down or a rating of 1 or 2 make it unresolved;
- **involvement rate** = involved / conversations; **resolution rate** = resolved / involved
  conversations that have ended or are confirmed; **automation rate** = involvement × resolution
  (the share of all conversations the bot resolved alone); **handoff rate** = conversations
  given to a person (asked for, or taken over) / conversations; **CSAT** = ratings of 4 or 5 /
  ratings given (one tap at the end of a conversation, 1 to 5).

docs/OUTCOMES.md says the same for owners; the figures are in the console's "How it is doing"
tab and `chatbot outcomes`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from chatbot.store.outcomes import OutcomeRow


class Outcome(StrEnum):
    CONFIRMED = "resolved, confirmed"
    ASSUMED = "resolved, assumed"
    UNRESOLVED = "not resolved"
    PERSON = "handed to a person"
    OPEN = "still open"
    NO_QUESTION = "no question asked"


def outcome_of(row: OutcomeRow, now: float, ended_after_s: float) -> Outcome:
    if row.questions == 0:  # "hi", "thanks", a person asked for at once: the bot answered nothing
        return Outcome.PERSON if row.person else Outcome.NO_QUESTION
    if row.person:
        return Outcome.PERSON
    if row.rating == -1 or (row.csat is not None and row.csat <= 2):
        return Outcome.UNRESOLVED  # the customer said it did not help
    said_helped = row.thanked or row.rating == 1 or (row.csat is not None and row.csat >= 4)
    if row.last_answered and said_helped:
        return Outcome.CONFIRMED
    if now - row.last_at < ended_after_s:
        return Outcome.OPEN
    return Outcome.ASSUMED if row.last_answered else Outcome.UNRESOLVED


@dataclass(frozen=True, slots=True)
class Figures:
    conversations: int
    involved: int
    judged: int  # involved conversations ended or confirmed: the resolution rate's base
    confirmed: int
    assumed: int
    person: int
    rated: int
    satisfied: int

    @property
    def resolved(self) -> int:
        return self.confirmed + self.assumed

    @property
    def involvement(self) -> float | None:
        return _share(self.involved, self.conversations)

    @property
    def resolution(self) -> float | None:
        return _share(self.resolved, self.judged)

    @property
    def automation(self) -> float | None:
        if self.involvement is None or self.resolution is None:
            return None
        return self.involvement * self.resolution

    @property
    def handoff(self) -> float | None:
        return _share(self.person, self.conversations)

    @property
    def csat(self) -> float | None:
        return _share(self.satisfied, self.rated)

    def as_json(self) -> dict[str, int | float | None]:
        return {
            "conversations": self.conversations,
            "involved": self.involved,
            "resolved_confirmed": self.confirmed,
            "resolved_assumed": self.assumed,
            "handed_to_person": self.person,
            "rated": self.rated,
            "involvement_rate": self.involvement,
            "resolution_rate": self.resolution,
            "automation_rate": self.automation,
            "handoff_rate": self.handoff,
            "csat": self.csat,
        }


def figures(judged: Iterable[tuple[OutcomeRow, Outcome]]) -> Figures:
    rows = list(judged)
    outcomes = [o for _, o in rows]
    involved = [o for r, o in rows if r.questions > 0]
    ratings = [r.csat for r, _ in rows if r.csat is not None]
    return Figures(
        conversations=len(rows),
        involved=len(involved),
        judged=sum(o is not Outcome.OPEN for o in involved),
        confirmed=outcomes.count(Outcome.CONFIRMED),
        assumed=outcomes.count(Outcome.ASSUMED),
        person=outcomes.count(Outcome.PERSON),
        rated=len(ratings),
        satisfied=sum(score >= 4 for score in ratings),
    )


def judge(
    rows: Iterable[OutcomeRow], now: float, ended_after_s: float
) -> list[tuple[OutcomeRow, Outcome]]:
    return [(row, outcome_of(row, now, ended_after_s)) for row in rows]


def grouped(
    judged: list[tuple[OutcomeRow, Outcome]], key: Callable[[OutcomeRow], str]
) -> dict[str, Figures]:
    """Figures per group (a week, a language), in the order the groups first appear."""
    groups: dict[str, list[tuple[OutcomeRow, Outcome]]] = {}
    for row, outcome in judged:
        groups.setdefault(key(row), []).append((row, outcome))
    return {name: figures(members) for name, members in groups.items()}


def week_of(row: OutcomeRow) -> str:
    """The Monday of the week the conversation began, as 2026-12-07."""
    day = dt.date.fromtimestamp(row.started_at)
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def percent(share: float | None) -> str:
    return "–" if share is None else f"{round(100 * share)}%"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
