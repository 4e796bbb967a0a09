"""The runs kept for a bot (one JSON file each under <data dir>/evals/<bot>/), listed newest
first and compared, so a business sees whether new documents or another model made its bot
better or worse."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


def _order(path: Path) -> tuple[str, int]:
    # "20261201-171500.json", then "20261201-171500-2.json" for a second run in that second.
    day, _, rest = path.stem.partition("-")
    second, _, n = rest.partition("-")
    return day + second, int(n) if n.isdigit() else 1


def kept_runs(folder: Path) -> list[Path]:
    """Newest first (the file names are the runs' times, UTC)."""
    return sorted(folder.glob("*.json"), key=_order, reverse=True) if folder.is_dir() else []


def load_run(folder: Path, name: str) -> dict[str, Any]:
    """One kept run by its file name; a name that is not one of them is refused."""
    chosen = next((p for p in kept_runs(folder) if p.name == name), None)
    if chosen is None:
        raise FileNotFoundError(f"no kept run {name!r}")
    return json.loads(chosen.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def when(run: dict[str, Any]) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(float(run["at"])))


def described(run: dict[str, Any]) -> str:
    """One line: when, and each candidate's right and wrong answers shown."""
    scores = ", ".join(
        f"{c['candidate']} {c['right']}/{c['answerable']} right, {c['wrong']} wrong"
        for c in run["candidates"]
    )
    return f"{when(run)} · {scores}"


def changes(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Each candidate of both runs, its right and wrong answers then and now."""
    earlier = {c["candidate"]: c for c in before["candidates"]}
    lines = []
    for c in now["candidates"]:
        was = earlier.get(c["candidate"])
        if was is None:
            continue
        asked = (
            ""
            if was["questions"] == c["questions"]
            else (f" (asked {was['questions']} questions then, {c['questions']} now)")
        )
        lines.append(
            f"{c['candidate']}: right {was['right']} → {c['right']},"
            f" wrong shown {was['wrong']} → {c['wrong']}{asked}"
        )
    return lines
