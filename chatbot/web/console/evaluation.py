"""The "Which model?" tab: the bot's test questions (suggested from its documents, imported from
a file), an evaluation of the candidates staff tick, the scores as a table and a chart, each
answer openable, and the model that did best put to work for this bot with one click."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr

from chatbot.actions.bots import change_bot
from chatbot.actions.evaluation import import_questions, keep_suggestions
from chatbot.evaluation.candidates import build
from chatbot.evaluation.history import changes, described, kept_runs, load_run, when
from chatbot.evaluation.run import Meter, evaluate, save_run
from chatbot.llm.select import ollama_models
from chatbot.web.admin_auth import COOKIE
from chatbot.web.console.common import Console, md_text, refusal, told_to_staff, warning
from knowledge.errors import KnowledgeError

QUESTION_COLUMNS = ["question", "a right answer holds", "from", "answerable", "language"]
SCORE_COLUMNS = [
    "candidate", "right", "wrong shown", "fallback", "withheld", "out of scope declined",
    "median chars", "first shown ms", "tokens/s", "memory MB",
]  # fmt: skip
OUTCOME_COLUMNS = ["question", "the customer saw", "verdict", "sources"]
_FIXED = ["embedded", "embedded@generate", "extract"]


def _profile_change(candidate: str) -> dict[str, Any]:
    """What "use this model" stores in the bot's profile for a candidate."""
    name, _, mode = candidate.partition("@")
    if name == "extract":
        return {"answer_mode": "extract"}
    if name == "embedded":
        model = "embedded"
    elif name.startswith("ollama:"):
        model = name.removeprefix("ollama:")
    else:
        raise refusal(
            "A GGUF file or another server is the deployment's model (model.* in the settings),"
            " not a bot's: set it there."
        )
    return {"model": model, "answer_mode": mode or "default"}


def evaluation_tab(console: Console, bot: gr.Dropdown) -> None:
    services = console.services

    def question_rows(bot: str) -> tuple[list[list[Any]], str]:
        kept = services.test_questions.all(bot) if bot else []
        rows = [
            [
                " / ".join(q.turns),
                " | ".join(q.expect),
                q.source or "",
                "yes" if q.answerable else "no",
                q.language,
            ]
            for q in kept
        ]
        return rows, f"**{len(kept)} test questions** for {md_text(bot)}." if bot else ""

    def folder(bot: str) -> Path:
        return services.settings.data_dir / "evals" / bot

    def run_choices(bot: str) -> list[tuple[str, str]]:
        """The kept runs, newest first, each named by its time and scores."""
        choices = []
        for path in kept_runs(folder(bot)) if bot else []:
            try:
                choices.append((described(json.loads(path.read_text(encoding="utf-8"))), path.name))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a file that is not a run (edited by hand): not offered
        return choices

    def show(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        rows, said = question_rows(bot)
        tags = [f"ollama:{t}" for t in ollama_models(services.settings.model)]
        return rows, said, gr.update(choices=[*_FIXED, *tags]), gr.update(choices=run_choices(bot))

    def shown_run(kept: dict[str, Any]):  # type: ignore[no-untyped-def]
        """A run's scores, charts, candidates and how it compares with the run before it."""
        names = [c["candidate"] for c in kept["candidates"]]
        right_and_wrong, speed = _charts(kept)
        since = ""
        if kept.get("previous_run"):
            try:
                before = load_run(folder(kept["bot"]), kept["previous_run"])
                lines = changes(before, kept)
                since = f"**Since the run of {when(before)}:** " + (
                    "; ".join(md_text(x) for x in lines) or "no candidate in common with it."
                )
            except (OSError, ValueError, KeyError, TypeError):
                since = ""  # the run before was deleted or is unreadable: nothing to compare
        return _scores(kept), right_and_wrong, speed, kept, gr.update(choices=names), since

    def open_run(bot: str, name: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        if not bot or not name:
            raise refusal("Choose a bot and one of its kept runs.")
        try:
            kept = load_run(folder(bot), name)
        except (OSError, ValueError) as exc:
            raise refusal(f"That run cannot be read: {exc}") from exc
        return shown_run(kept)

    def suggest(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        if not bot:
            raise refusal("Choose a bot first.")
        added = keep_suggestions(services, bot, account.username)
        rows, said = question_rows(bot)
        return rows, f"{said} {added} suggested from its documents: check their facts."

    def import_file(bot: str, upload: Any, replace: bool, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        if not bot or not upload:
            raise refusal("Choose a bot and a JSONL or CSV file of questions.")
        path, refused = console.uploads.claim(request.cookies.get(COOKIE), [str(upload)])
        if refused or not path:
            raise refusal("Upload the file here first.")
        try:
            with told_to_staff():
                added = import_questions(services, bot, path[0], account.username, replace=replace)
        finally:
            console.uploads.discard(path)
        rows, said = question_rows(bot)
        return rows, f"{said} {added} imported.", None

    def run(bot: str, picked: list[str], request: gr.Request, progress=gr.Progress()):  # type: ignore[no-untyped-def]  # noqa: B008
        console.staff(request, bot)
        asked = services.test_questions.all(bot) if bot else []
        # Said beside the button: this event shows a progress bar, and a raised refusal would
        # leave a red "Error" badge over every table and chart it draws.
        refused = (
            "Keep some test questions first: suggest them, or import a file."
            if not asked
            else "Tick one or more candidates."
            if not picked
            else ""
        )
        if refused:
            return *(gr.skip() for _ in range(len(shown) + 1)), f"⚠️ {refused}"
        meter = Meter()
        try:
            candidates = build(picked, services.settings.model, [meter])
            results = evaluate(
                services,
                bot,
                asked,
                candidates,
                meter,
                lambda name, done, total: progress(
                    done / max(total, 1), desc=f"{name}: {done}/{total}"
                ),
            )
        except KnowledgeError as exc:  # a candidate that cannot be built (Ollama not running)
            return *(gr.skip() for _ in range(len(shown) + 1)), warning(exc)
        _, kept = save_run(folder(bot), bot, "console", results)
        return *shown_run(kept), gr.update(choices=run_choices(bot), value=None), ""

    def outcomes(kept: dict[str, Any] | None, candidate: str | None) -> list[list[Any]]:
        chosen = next(
            (c for c in (kept or {}).get("candidates", []) if c["candidate"] == candidate), None
        )
        if chosen is None:
            return []
        return [
            [
                " / ".join(o["question"].get("turns") or [o["question"]["question"]]),
                o["shown"],
                o["verdict"],
                ", ".join(o["sources"]),
            ]
            for o in chosen["outcomes"]
        ]

    def use(bot: str, candidate: str | None, request: gr.Request) -> str:
        account = console.staff(request, bot)
        if not bot or not candidate:
            raise refusal("Run an evaluation, then choose the candidate to use.")
        changes = _profile_change(candidate)
        with told_to_staff():
            change_bot(services, bot, changes, account.username, account.role)
        return f"{md_text(bot)} now answers with {md_text(candidate)}, from the next message."

    with gr.Tab("Which model?"):
        gr.Markdown(
            "Ask the bot's own test questions of candidate models before one talks to your"
            " customers. **Wrong shown** is the number that matters most: answers a customer"
            " would have been given that are not right."
        )
        count = gr.Markdown()
        with gr.Row():
            refresh = gr.Button("Refresh", scale=1)
            suggest_button = gr.Button("Suggest questions from the documents", scale=2)
        with gr.Row():
            upload = gr.File(label="Import questions (JSONL or CSV)", type="filepath", scale=3)
            replace = gr.Checkbox(label="Replace the kept questions", scale=1)
            import_button = gr.Button("Import", scale=1)
        kept_table = gr.Dataframe(
            wrap=True, headers=QUESTION_COLUMNS, label="Test questions", interactive=False
        )
        picked = gr.CheckboxGroup(_FIXED, value=["embedded"], label="Candidates")
        run_button = gr.Button("Evaluate", variant="primary")
        run_said = gr.Markdown()
        runs = gr.Dropdown(label="Kept runs (newest first)", choices=[])
        scores = gr.Dataframe(
            wrap=True,
            headers=SCORE_COLUMNS,
            column_widths=["19%", "8%", "9%", "9%", "9%", "10%", "9%", "9%", "9%", "9%"],
            label="Scores",
            interactive=False,
        )
        since = gr.Markdown()
        with gr.Row():
            right_and_wrong = gr.BarPlot(
                x="candidate", y="answers", color="what", title="Right and wrong answers shown"
            )
            speed = gr.ScatterPlot(
                x="first shown ms",
                y="right",
                color="candidate",
                title="Speed against right answers",
            )
        last_run = gr.State(None)
        with gr.Row():
            candidate = gr.Dropdown(label="Candidate", choices=[], scale=3)
            use_button = gr.Button("Use this model for this bot", scale=1)
        used = gr.Markdown()
        answers = gr.Dataframe(
            wrap=True, headers=OUTCOME_COLUMNS, label="Its answers", interactive=False
        )

    refresh.click(show, bot, [kept_table, count, picked, runs])
    suggest_button.click(suggest, bot, [kept_table, count])
    import_button.click(import_file, [bot, upload, replace], [kept_table, count, upload])
    shown = [scores, right_and_wrong, speed, last_run, candidate, since]
    run_button.click(run, [bot, picked], [*shown, runs, run_said])
    runs.input(open_run, [bot, runs], shown)
    candidate.change(outcomes, [last_run, candidate], answers)
    use_button.click(use, [bot, candidate], used)


def _scores(kept: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            c["candidate"],
            f"{c['right']}/{c['answerable']}",
            c["wrong"],
            c["fallback"],
            c["withheld"],
            f"{c['out_of_scope_fallbacks']}/{c['out_of_scope']}",
            c["median_chars"] or "",
            c["first_shown_ms"]["median"] or "",
            c["tokens_per_s"] or "",
            c["details"].get("memory_mb") or "",
        ]
        for c in kept["candidates"]
    ]


def _charts(kept: dict[str, Any]) -> tuple[Any, Any]:
    import pandas as pd

    bars = pd.DataFrame(
        [
            {"candidate": c["candidate"], "answers": c[key], "what": what}
            for c in kept["candidates"]
            for key, what in (("right", "right"), ("wrong", "wrong shown"))
        ],
        columns=["candidate", "answers", "what"],
    )
    points = pd.DataFrame(
        [
            {
                "candidate": c["candidate"],
                "first shown ms": c["first_shown_ms"]["median"] or 0,
                "right": c["right"],
            }
            for c in kept["candidates"]
        ],
        columns=["candidate", "first shown ms", "right"],
    )
    return bars, points
