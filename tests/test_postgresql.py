"""The application database on PostgreSQL (#20, first part), against a real server of the
tests' own (tests/postgres.py): the migrations build the schema the code queries, and a bot
lives its life on it: staff, documents, test questions, a website, customers chatting and
rating, their data exported and erased, the audit log verified."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO
from tests.postgres import postgres_server
from tests.servers import Server, chat

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def test_the_migrations_build_the_schema_the_code_uses_on_postgresql(database: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from chatbot.store.database import open_database
    from chatbot.store.schema import metadata

    with open_database(database).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    with open_database(database).connect() as connection:  # a second start: nothing to do
        assert MigrationContext.configure(connection).get_current_revision() == "0008"


def test_a_bot_lives_its_life_on_postgresql(
    database: str, run_cli, cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = {"CHATBOT_DATABASE__URL": database, "CHATBOT_ANSWERING__MODE": "extract"}

    def cli(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        result = run_cli(*args, data_dir=tmp_path, env=env, stdin=stdin)
        assert result.code == 0, result.err
        return result

    cli("bots", "create", "kedai", "title=Kedai Ah Seng")
    cli("ingest", "--bot", "kedai", str(DEMO / "documents"))
    cli(
        "admin",
        "create",
        "aisyah",
        "--role",
        "owner",
        "--password-stdin",
        stdin="a long password\n",
    )
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps({"question": "How much is a charger?", "expect": ["RM45"]}) + "\n",
        encoding="utf-8",
    )
    cli("eval", "--bot", "kedai", "--import", str(questions))
    assert not (tmp_path / "chatbot.db").exists()  # all of it in PostgreSQL
    server = Server(tmp_path, env, cli_env)
    try:
        _, events = chat(server, "How much does an iPhone battery replacement cost?", bot="kedai")
        done = events[-1][1]
        assert "RM150" in done["answer"]
        rated = httpx.post(
            f"{server.url}/api/bots/kedai/answers/{done['answer_id']}/rating",
            json={"conversation_id": done["conversation_id"], "rating": "up"},
        )
        assert rated.status_code == 204
    finally:
        server.stop()
    conversation = done["conversation_id"]
    exported = cli("privacy", "export", "--conversation", conversation)
    assert "RM150" in exported.out
    cli("privacy", "erase", "--conversation", conversation, stdin="y\n")
    again = run_cli("privacy", "export", "--conversation", conversation, data_dir=tmp_path, env=env)
    assert "RM150" not in again.out
    verified = cli("audit", "verify")  # every change above audited, in a chain unbroken
    assert verified.out.startswith("audit log intact")
    exported_questions = tmp_path / "kept.jsonl"
    cli("eval", "--bot", "kedai", "--export", str(exported_questions))
    assert "RM45" in exported_questions.read_text(encoding="utf-8")
