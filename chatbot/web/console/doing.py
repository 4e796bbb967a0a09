"""The "How it is doing" tab, the last 30 days: what became of conversations (automation,
involvement, resolution and handoff rates, CSAT; chatbot/inbox/outcomes.py), per week and per
language, with the conversations behind each figure a click away (an owner opens their
transcripts); questions a day, the share answered and rated down, the most asked questions;
and the support desk's part: handoffs, how soon a person first replied, leads a week."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import gradio as gr

from chatbot.actions.outcomes import Report, behind, report
from chatbot.actions.privacy import open_transcript
from chatbot.inbox.outcomes import Figures, Outcome, percent
from chatbot.store.accounts import Role
from chatbot.store.gaps import normalise
from chatbot.store.personal_data import ConversationRef
from chatbot.web.console.common import Console, counted, short_ref, when
from chatbot.web.console.conversations import transcript_html

RATE_COLUMNS = [
    "",
    "conversations",
    "automation",
    "involvement",
    "resolution",
    "handoff",
    "CSAT",
    "ratings",
]
BEHIND_COLUMNS = ["started", "outcome", "language", "channel", "first question", "rating", "ref"]
_EVERY = "every conversation"
_ALL_LANGUAGES = "every language"
_FACES = {1: "😞 1", 2: "🙁 2", 3: "😐 3", 4: "🙂 4", 5: "😀 5", None: ""}


def doing_tab(console: Console, bot: gr.Dropdown) -> None:
    services = console.services

    def stats(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        import pandas as pd

        console.staff(request, bot)
        since = time.time() - 30 * 86400
        everything = services.conversations.since(bot, since)
        # Greetings, thanks and requests for a person are counted apart: they are not questions
        # the bot answered or failed.
        rows = [r for r in everything if r["kind"] != "smalltalk"]
        chatter = len(everything) - len(rows)
        days: dict[str, list[int]] = {}
        for r in rows:
            day = dt.date.fromtimestamp(r["created_at"]).isoformat()
            counts = days.setdefault(day, [0, 0, 0])
            counts[0] += 1
            counts[1] += bool(r["answered"])
            counts[2] += r["rating"] == -1
        # Every day of the month, quiet ones as zero, so that the bars stand on a common floor.
        today = dt.date.today()
        frame = []
        for back in range(29, -1, -1):
            day = (today - dt.timedelta(days=back)).isoformat()
            n, a, down = days.get(day, [0, 0, 0])
            frame.append(
                {
                    "day": day[5:],
                    "questions": n,
                    "answered %": round(100 * a / n) if n else None,
                    "rated down %": round(100 * down / n) if n else None,
                }
            )
        per_day = pd.DataFrame(frame, columns=["day", "questions", "answered %", "rated down %"])
        asked: dict[str, list[Any]] = {}
        for r in rows:
            entry = asked.setdefault(normalise(r["question"]), [r["question"], 0])
            entry[1] += 1
        top = sorted(asked.values(), key=lambda e: e[1], reverse=True)[:10]
        total = len(rows)
        answered = sum(bool(r["answered"]) for r in rows)
        down = sum(r["rating"] == -1 for r in rows)
        by_kind = {kind: sum(r["kind"] == kind for r in rows) for kind in ("model", "extract")}
        by_kind["pinned"] = sum(r["kind"] == "pinned" for r in rows)
        summary = (
            f"Last 30 days: **{total} questions**, {round(100 * answered / total) if total else 0}%"
            f" answered ({by_kind['model']} by the model, {by_kind['extract']} by an extract"
            f" from the documents, {by_kind['pinned']} by a pinned answer),"
            f" {round(100 * down / total) if total else 0}% rated down;"
            f" {chatter} other messages (greetings, thanks, asking for a person)."
        )
        top_frame = [[q, n] for q, n in top]
        # The outcomes, worked out once: their rates above, and the desk's handoff count below.
        made = report(services, bot)
        desk_summary, weekly = _desk_figures(services, bot, since, made)
        return (
            summary + "\n\n" + desk_summary,
            _counts(per_day, "questions"),
            per_day,
            top_frame,
            _counts(weekly, "count"),
            _headline(made),
            _rate_rows(made.weeks, lambda week: f"from {week[5:]}"),
            _rate_rows(made.languages, lambda language: language),
            gr.update(choices=[_ALL_LANGUAGES, *made.languages]),
        )

    def listed(bot: str, which: str, language: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        chosen = None if which == _EVERY else Outcome(which)
        spoken = None if language in (None, _ALL_LANGUAGES) else language
        found = behind(services, bot, chosen, language=spoken)
        rows = [
            [
                when(b.started_at),
                b.outcome.value,
                b.language,
                b.channel,
                b.first_question or "(not kept: the customer chose so)",
                _FACES[b.csat],
                short_ref(b.conversation_id),
            ]
            for b in found
        ]
        return rows, [b.conversation_id for b in found]  # the rows' whole references

    def opened(bot: str, ids: list[str], evt: gr.SelectData, request: gr.Request) -> str:
        """A row clicked: its transcript, for an owner (opening it is audited)."""
        account = console.staff(request, bot, Role.OWNER)
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        if not ids or not 0 <= int(row) < len(ids):
            return ""
        conversation_id = ids[int(row)]
        turns = open_transcript(services, account.username, ConversationRef(bot, conversation_id))
        if not turns:
            return "<p>Nothing of this conversation was kept: the customer chose so.</p>"
        return transcript_html(turns)

    with gr.Tab("How it is doing") as tab:
        show_stats = gr.Button("Refresh")
        headline = gr.Markdown()
        weekly = gr.Dataframe(headers=RATE_COLUMNS, label="By week", interactive=False, wrap=True)
        by_language = gr.Dataframe(
            headers=RATE_COLUMNS, label="By language", interactive=False, wrap=True
        )
        with gr.Row():
            which = gr.Dropdown(
                [_EVERY, *(o.value for o in Outcome)],
                value=_EVERY,
                label="The conversations behind the figures (click one to read it)",
                scale=3,
            )
            language = gr.Dropdown([_ALL_LANGUAGES], value=_ALL_LANGUAGES, label="In", scale=1)
        conversations = gr.Dataframe(
            headers=BEHIND_COLUMNS,
            interactive=False,
            wrap=True,
            max_height=420,
            # Shares of the width, not pixels: the table fits a tablet as well as a laptop.
            column_widths=["15%", "14%", "8%", "9%", "30%", "9%", "15%"],
        )
        read = gr.HTML()  # built by transcript_html: every word escaped
        behind_ids = gr.State([])
        summary = gr.Markdown()
        questions_plot = gr.BarPlot(
            x="day", y="questions", title="Questions a day", y_lim=[0, None]
        )
        answered_plot = gr.BarPlot(
            x="day", y="answered %", title="Answered, % of questions", y_lim=[0, 100]
        )
        # A table, not bars: questions are long labels and counts are whole numbers.
        top_table = gr.Dataframe(
            headers=["question", "asked"], label="Most asked", interactive=False, wrap=True
        )
        desk_plot = gr.BarPlot(
            x="week",
            y="count",
            color="what",
            title="Handed to a person, and leads, a week",
            y_lim=[0, None],
        )
    shown = [summary, questions_plot, answered_plot, top_table, desk_plot]
    rates = [headline, weekly, by_language, language]
    for event in (show_stats.click, tab.select):  # shown when opened, not only on Refresh
        event(stats, bot, [*shown, *rates])
        event(listed, [bot, which, language], [conversations, behind_ids])
    for chosen in (which.change, language.change):
        chosen(listed, [bot, which, language], [conversations, behind_ids])
    conversations.select(opened, [bot, behind_ids], read)


def _headline(made: Report) -> str:
    t = made.total
    if not t.conversations:
        return "**No conversations in the last 30 days.** The figures show once customers chat."
    lines = [
        f"In the last 30 days, **{t.conversations} conversations**."
        f" **Automation rate {percent(t.automation)}**: resolved by the bot alone"
        f" (involvement {percent(t.involvement)} × resolution {percent(t.resolution)}).",
        f"- **Involvement {percent(t.involvement)}**: {counted(t.involved, 'conversation')}"
        " with a question the bot tried to answer (greetings alone are not).",
        f"- **Resolution {percent(t.resolution)}**: {t.confirmed} confirmed (the customer"
        f" thanked, rated up, or rated the conversation 4 or 5) and {t.assumed} assumed (they"
        f" left after an answer without asking for more), of {t.judged} ended"
        + (f"; {made.open} still open" if made.open else "")
        + ".",
        f"- **Handoff {percent(t.handoff)}**: {counted(t.person, 'conversation')} given to a"
        " person.",
        f"- **CSAT {percent(t.csat)}**: {t.satisfied} of {t.rated} ratings were 4 or 5."
        if t.rated
        else "- **CSAT**: no ratings yet (customers are asked when they say thanks or bye).",
    ]
    return "\n".join(lines)


def _rate_rows(groups: dict[str, Figures], label: Any) -> list[list[Any]]:
    return [
        [
            label(name),
            f.conversations,
            percent(f.automation),
            percent(f.involvement),
            percent(f.resolution),
            percent(f.handoff),
            percent(f.csat),
            f.rated,
        ]
        for name, f in groups.items()
    ]


def _counts(frame: Any, column: str) -> Any:
    """A chart of counts whose axis reaches 5 at least: on a quiet month the chart's own axis
    would step in fifths (0.2, 0.4 …), and half a question means nothing to an owner."""
    top = int(frame[column].max() or 0) if len(frame) else 0
    return gr.update(value=frame, y_lim=[0, max(5, top)])


def _desk_figures(services: Any, bot: str, since: float, made: Report) -> tuple[str, Any]:
    """The summary's support-desk sentence and the weekly frame of handoffs and leads. The
    handoffs are the outcomes' (`made`): conversations given to a person, the same count as
    the handoff rate above, not the times a customer was put in the queue (one conversation
    can wait twice)."""
    import pandas as pd

    leads = services.leads.created_since(bot, since)
    started, handed = made.total.conversations, made.total.person
    rate = percent(made.total.handoff) if started else "none"
    waits = sorted(services.desk.store.first_replies(bot, since))
    if waits:
        median = waits[len(waits) // 2] / 60
        replied = (
            f"a person first replied after {median:.0f} min (median of {len(waits)})"
            if median >= 1
            else f"a person first replied within a minute (median of {len(waits)})"
        )
    else:
        replied = "no reply from a person yet"
    sentence = (
        f"**{handed} conversation{'' if handed == 1 else 's'} handed to a person** of"
        f" {started} begun ({rate});"
        f" {replied}; **{len(leads)} lead{'' if len(leads) == 1 else 's'}**."
    )
    weeks: dict[str, dict[str, int]] = {}
    today = dt.date.today()
    for back in range(4, -1, -1):  # the last five weeks, quiet ones at zero
        monday = today - dt.timedelta(days=today.weekday() + 7 * back)
        weeks[monday.isoformat()[5:]] = {"handed to a person": 0, "leads": 0}
    for week_of, week_figures in made.weeks.items():  # by their Mondays, "2026-12-07"
        if week_of[5:] in weeks:
            weeks[week_of[5:]]["handed to a person"] = week_figures.person
    for at in leads:
        day = dt.date.fromtimestamp(at)
        week = (day - dt.timedelta(days=day.weekday())).isoformat()[5:]
        if week in weeks:
            weeks[week]["leads"] += 1
    rows = [
        {"week": f"from {week}", "count": n, "what": what}
        for week, counts in weeks.items()
        for what, n in counts.items()
    ]
    return sentence, pd.DataFrame(rows, columns=["week", "count", "what"])
