"""The engine, from the settings, with the schema brought up to date by the migrations."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATING = 0x6D696772  # "migr": the advisory lock migrations are run under on PostgreSQL


def database_url(configured: str | None, data_dir: Path) -> str:
    return configured or f"sqlite:///{(data_dir / 'chatbot.db').resolve()}"


def inserted_id(result: Any) -> int:
    """The primary key an INSERT's result gave the new row (0 where the driver tells none)."""
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


def open_database(url: str) -> Engine:
    """Connect and apply any migration not yet applied (each in its own transaction)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate(engine)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # WAL: the chat writes while staff read; foreign keys: SQLite ignores them unless asked.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    # Deleted rows are overwritten with zeros, not left in free pages: an erased conversation
    # must not be recoverable from the file (store/personal_data.py truncates the WAL after).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def newest_revision() -> str:
    """The newest migration's revision: each is named by its file's number ("0012" is
    `0012_known_devices.py`; tests/test_database.py holds every file and alembic to that)."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def _applied(engine: Engine) -> str | None:
    """The revision the database is at, or None (a new database, or one alembic never ran on)."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def migrate(engine: Engine) -> None:
    # A database already at the newest revision (every start but the first after an upgrade)
    # is left as it is without loading alembic and its scripts: a quarter of a second of every
    # command's and server's start. Anything else goes through alembic, under the lock.
    if _applied(engine) == newest_revision():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Replicas starting together would each create the tables: one at a time, and the
            # later ones find the schema up to date.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATING})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
