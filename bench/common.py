"""Shared by the benchmarks: where the shared data lies, and a plain-text table printer."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CHATBOT_SHARED", ROOT.parent / "shared"))


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def quiet_libraries() -> None:
    import logging
    import warnings

    from knowledge.embeddings import force_offline

    force_offline()
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
