"""The application database: the migrations build exactly the schema the code queries."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chatbot.store.database import MIGRATIONS, newest_revision, open_database
from chatbot.store.personal_data import conversation_key
from chatbot.store.schema import metadata
from tests.postgres import head_revision


def test_the_migrations_build_the_schema_the_code_uses(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'chatbot.db'}")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    again = open_database(f"sqlite:///{tmp_path / 'chatbot.db'}")  # a second start: nothing to do
    with again.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()


def test_each_migration_is_named_by_its_number_and_follows_the_one_before() -> None:
    # A start that finds the database at the newest file's number skips alembic: that number
    # must be alembic's head, or a new migration would never be applied.
    import re

    files = sorted((MIGRATIONS / "versions").glob("[0-9]*_*.py"))
    previous = None
    for path in files:
        source = path.read_text(encoding="utf-8")
        revision = re.search(r'^revision = "([^"]+)"', source, re.M)
        down = re.search(r'^down_revision = (?:"([^"]+)"|None)', source, re.M)
        assert revision and down, path.name
        assert revision.group(1) == path.name.split("_", 1)[0], path.name
        assert down.group(1) == previous, path.name
        previous = revision.group(1)
    assert newest_revision() == previous == head_revision()


def test_upgrading_masks_what_was_stored_before_and_chains_the_audit_log(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from chatbot.store.audit import AuditLog
    from chatbot.store.database import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'chatbot.db'}"
    engine = open_database(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:  # a deployment of the version before privacy (#6)
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
        connection.execute(
            text(
                "INSERT INTO answers (bot, conversation_id, created_at, question, answer, answered,"
                " guard_reason, language, sources, timings) VALUES ('shop', :id, 1, :q, 'ok', 1,"
                " '', 'en', '[]', '{}')"
            ),
            {"id": "a" * 32, "q": "My IC is 900101-14-5678, call 012-345 6789"},
        )
        for target in ("shop: one", "shop: siti@example.my"):
            connection.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, target, detail)"
                    " VALUES (1.5, 'cli:x', 'answer.pin', :t, '')"
                ),
                {"t": target},
            )
    engine.dispose()

    upgraded = open_database(url)
    with upgraded.connect() as connection:
        assert connection.execute(text("SELECT question FROM answers")).scalar_one() == (
            "My IC is [IC-NUMBER], call [PHONE]"
        )
        # Kept under its key: the customer's id still opens it, the database no longer holds it.
        kept = connection.execute(text("SELECT conversation_id FROM answers")).scalar_one()
        assert kept == conversation_key("a" * 32) != "a" * 32
        targets = connection.execute(text("SELECT target FROM audit_log ORDER BY id")).scalars()
        assert list(targets) == ["shop: one", "shop: [EMAIL]"]
    assert AuditLog(upgraded).verify()[0] == []


def test_the_migrations_import_no_live_code() -> None:
    # A migration must do tomorrow what it did the day it was written: code it needs is frozen
    # beside it (chatbot/store/migrations/frozen.py), never imported from the live modules,
    # whose masking rules or audit hash may change.
    import ast

    folder = Path(__file__).parents[1] / "chatbot" / "store" / "migrations" / "versions"
    imported = {
        f"{path.name}: {name}"
        for path in folder.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        for name in (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
        if name.startswith(("chatbot", "knowledge")) and name != "chatbot.store.migrations"
    }
    assert not imported, imported
