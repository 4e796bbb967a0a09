"""The command line, `chatbot VERB`: one module per group of verbs, each registering its commands
on the root app (common.py) when imported here. Nothing imports this package but the entry point."""

from __future__ import annotations

import logging
import sys

from chatbot.cli import (  # noqa: F401
    accounts,
    alerts,
    bots,
    evaluation,
    inbox,
    knowledge,
    leads,
    outcomes,
    privacy,
    serving,
    websites,
    whatsapp,
)
from chatbot.cli.common import ShownOutput, _print_error, _state, app
from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: usage errors exit 2 (typer), known failures 1 with a one-line message."""
    sys.stdout = ShownOutput(sys.stdout)  # names from documents and websites shown, not obeyed
    try:
        app()
    except KnowledgeError as exc:
        _print_error(str(exc))
        sys.exit(1)
    except Exception as exc:
        log.exception("unexpected error")
        _print_error(f"unexpected {type(exc).__name__}: {exc} (details in the log)")
        sys.exit(1)
    finally:
        if _state.services is not None:
            _state.services.close()
