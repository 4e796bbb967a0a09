"""The "How it is doing" tab: questions a day, the share answered (by the model, an extract, a
pinned answer) and rated down, the most asked questions; the last 30 days. And the support
desk's part: conversations handed to a person, how soon a person first replied, leads a week."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import gradio as gr

from chatbot.store.gaps import normalise
from chatbot.web.console.common import Console


def doing_tab(console: Console, bot: gr.Dropdown) -> None:
    services = console.services

    def stats(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        import pandas as pd

        console.staff(request)
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
        top_frame = pd.DataFrame(
            [{"question": q[:60], "asked": n} for q, n in top], columns=["question", "asked"]
        )
        desk_summary, weekly = _desk_figures(services, bot, since)
        return summary + "\n\n" + desk_summary, per_day, per_day, top_frame, weekly

    with gr.Tab("How it is doing") as tab:
        show_stats = gr.Button("Refresh")
        summary = gr.Markdown()
        questions_plot = gr.BarPlot(
            x="day", y="questions", title="Questions a day", y_lim=[0, None]
        )
        answered_plot = gr.BarPlot(
            x="day", y="answered %", title="Answered, % of questions", y_lim=[0, 100]
        )
        top_plot = gr.BarPlot(
            x="question", y="asked", title="Most asked", sort="-y", y_lim=[0, None]
        )
        desk_plot = gr.BarPlot(
            x="week",
            y="count",
            color="what",
            title="Handed to a person, and leads, a week",
            y_lim=[0, None],
        )
    shown = [summary, questions_plot, answered_plot, top_plot, desk_plot]
    show_stats.click(stats, bot, shown)
    tab.select(stats, bot, shown)  # shown when opened, not only on Refresh


def _desk_figures(services: Any, bot: str, since: float) -> tuple[str, Any]:
    """The summary's support-desk sentence and the weekly frame of handoffs and leads."""
    import pandas as pd

    figures = services.desk.store.handoff_figures(bot, since)
    leads = services.leads.created_since(bot, since)
    started = services.personal_data.conversations_started(bot, since)
    handed = len(figures.handoffs)
    rate = f"{round(100 * handed / started)}%" if started else "none"
    waits = sorted(figures.first_reply_s)
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
    for what, times in (("handed to a person", figures.handoffs), ("leads", leads)):
        for at in times:
            day = dt.date.fromtimestamp(at)
            week = (day - dt.timedelta(days=day.weekday())).isoformat()[5:]
            if week in weeks:
                weeks[week][what] += 1
    rows = [
        {"week": f"from {week}", "count": n, "what": what}
        for week, counts in weeks.items()
        for what, n in counts.items()
    ]
    return sentence, pd.DataFrame(rows, columns=["week", "count", "what"])
