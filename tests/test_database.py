"""The application database: the migrations build exactly the schema the code queries."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chatbot.store.database import open_database
from chatbot.store.schema import metadata


def test_the_migrations_build_the_schema_the_code_uses(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'chatbot.db'}")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    again = open_database(f"sqlite:///{tmp_path / 'chatbot.db'}")  # a second start: nothing to do
    with again.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0005"
