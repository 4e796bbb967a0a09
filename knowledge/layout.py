"""Where a data directory keeps each bot's knowledge: one place, so that the server, the command
line and any LangChain app opening a bot's knowledge base find the same files."""

from __future__ import annotations

from pathlib import Path

CATALOG_FILE = "catalog.sqlite3"


def bots_folder(data_dir: Path) -> Path:
    return data_dir / "bots"


def bot_folder(data_dir: Path, bot: str) -> Path:
    """The bot's catalog, keyword index and writers' lock (its vectors are in Chroma)."""
    return bots_folder(data_dir) / bot


def chroma_folder(data_dir: Path) -> Path:
    """The embedded Chroma store shared by every bot (one collection per bot)."""
    return data_dir / "chroma"
