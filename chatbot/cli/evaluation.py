"""`chatbot eval`: a bot's test questions asked of candidate models and answer modes."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from chatbot.cli.common import BotOption, JsonOption, _fail, _services, app, err
from chatbot.services import Services

SHIPPED = Path(__file__).resolve().parents[1] / "demo" / "questions.jsonl"


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _own_model(services: Services, bot: str) -> str:
    """The bot's own model as a candidate: its profile's, else the deployment's."""
    own = services.profile(bot).model
    if own:
        return "embedded" if own == "embedded" else f"ollama:{own}"
    model = services.chat_model
    if model is None:
        return "extract"
    from chatbot.llm.base import label  # LangChain's models: not for every command

    kind, _, name = label(model).partition(":")
    if kind == "llamacpp":
        gguf = services.settings.model.gguf_path
        return str(gguf) if gguf else "embedded"
    return f"{kind}:{name}"


@app.command("eval")
def evaluate_command(
    bot: BotOption = "default",
    questions: Annotated[
        Path | None,
        typer.Option(
            "--questions",
            "-q",
            help="A JSONL or CSV file of test questions (fields: question or turns, expect,"
            " source, answerable, language). The demo shop has its own by default.",
        ),
    ] = None,
    models: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="A candidate, repeatable: embedded, a .gguf path, ollama:TAG, ollama:*,"
            " openai:NAME or extract; @auto, @generate or @extract picks the answer mode."
            " Default: the bot's own model and mode.",
        ),
    ] = None,
    suggest: Annotated[
        Path | None,
        typer.Option(
            "--suggest",
            help="Write test questions suggested from the bot's documents to this file (JSONL"
            " or CSV), to check and keep, instead of evaluating.",
        ),
    ] = None,
    import_from: Annotated[
        Path | None,
        typer.Option(
            "--import",
            help="Keep this file's questions (JSONL or CSV) as the bot's test questions, after"
            " those it has (--replace: instead of them), instead of evaluating.",
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="With --import: the file's questions replace the bot's."),
    ] = False,
    export_to: Annotated[
        Path | None,
        typer.Option(
            "--export", help="Write the bot's test questions to this file (JSONL or CSV)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Ask a bot's test questions of candidate models and score them: right answers, wrong
    answers shown (the number that matters most), fallbacks, answers withheld by the guard,
    length and speed. Each run is kept under <data dir>/evals/<bot>/."""
    from chatbot.evaluation.candidates import build
    from chatbot.evaluation.questions import read_questions
    from chatbot.evaluation.run import Meter, evaluate, save_run

    with contextlib.suppress(OSError):
        os.nice(10)  # live customers' answers first, on the same machine
    services = _services()
    if not services.bots.known(bot):
        _fail(f"there is no bot {bot!r}; `chatbot bots list` shows them")
    if suggest is not None:
        from chatbot.evaluation.questions import write_questions
        from chatbot.evaluation.suggest import suggest as suggested

        made = suggested(services.knowledge(bot))
        if not made:
            _fail(f"bot {bot!r} has no FAQ entries or priced rows to suggest questions from")
        write_questions(suggest, made)
        print(f"{len(made)} questions suggested in {suggest}: check each one's facts, then run")
        print(f"  chatbot eval --bot {bot} --questions {suggest}")
        return
    if import_from is not None:
        from chatbot.actions.evaluation import import_questions
        from chatbot.store.audit import command_line_actor

        kept = import_questions(services, bot, import_from, command_line_actor(), replace=replace)
        total = services.test_questions.count(bot)
        print(f"kept {kept} questions from {import_from.name}; bot {bot} has {total}")
        return
    if export_to is not None:
        from chatbot.evaluation.questions import write_questions

        stored = services.test_questions.all(bot)
        if not stored:
            _fail(f"bot {bot!r} has no test questions yet: --suggest or --import some")
        write_questions(export_to, stored)
        print(f"wrote {len(stored)} questions to {export_to}")
        return
    if questions is not None:
        asked, source = read_questions(questions), str(questions)
    elif stored := services.test_questions.all(bot):
        asked, source = stored, f"bot {bot}'s test questions"
    elif bot == "demo-shop":
        asked, source = read_questions(SHIPPED), str(SHIPPED)
    else:
        _fail(
            f"bot {bot!r} has no test questions: give --questions FILE, or keep some with"
            " --import FILE (--suggest FILE makes a start from its documents)",
            2,
        )
    meter = Meter()
    candidates = build(models or [_own_model(services, bot)], services.settings.model, [meter])
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("", total=len(asked) * len(candidates))
        finished: dict[str, int] = {}

        def progress(candidate: str, done: int, total: int) -> None:
            finished[candidate] = done
            bar.update(task, completed=sum(finished.values()), description=candidate[:40])

        results = evaluate(services, bot, asked, candidates, meter, progress)
    path, run = save_run(services.settings.data_dir / "evals" / bot, bot, source, results)
    if as_json:
        print(json.dumps(run, ensure_ascii=False))
        return
    header = ["candidate", "right", "wrong shown", "fallback", "withheld", "out of scope declined",
              "median chars", "first shown ms p50/p95", "total ms p50/p95", "tokens/s",
              "memory MB"]  # fmt: skip
    print(" | ".join(header))
    for row in run["candidates"]:
        print(
            " | ".join(
                [
                    row["candidate"],
                    f"{row['right']}/{row['answerable']}",
                    str(row["wrong"]),
                    str(row["fallback"]),
                    str(row["withheld"]),
                    f"{row['out_of_scope_fallbacks']}/{row['out_of_scope']}",
                    _cell(row["median_chars"]),
                    f"{_cell(row['first_shown_ms']['median'])}/{_cell(row['first_shown_ms']['p95'])}",
                    f"{_cell(row['total_ms']['median'])}/{_cell(row['total_ms']['p95'])}",
                    _cell(row["tokens_per_s"]),
                    _cell(row["details"].get("memory_mb")),
                ]
            )
        )
    if run["previous_run"]:
        from chatbot.evaluation.history import changes, load_run, when

        before = load_run(path.parent, run["previous_run"])
        for line in changes(before, run) or ["no candidate in common with it"]:
            err.print(f"since the run of {when(before)}: {line}", markup=False, soft_wrap=True)
    err.print(
        f"each answer, what the customer saw and why it scored so: {path}",
        markup=False,
        soft_wrap=True,
    )
