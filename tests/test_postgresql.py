"""The application database on PostgreSQL (#20), against a real server of the tests' own
(tests/postgres.py): the migrations build the schema the code queries, and a bot lives its life
on it: staff, documents, test questions, customers chatting and rating, their data exported and
erased, the audit log verified. The knowledge catalog and keyword index there too, shared by
every server: ranked exactly as SQLite ranks, a document ingested through one data directory
found through another, and a writer killed mid-ingest leaving nothing half-published."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from knowledge.errors import KnowledgeError
from knowledge.query import Query
from tests.conftest import DEMO, ROOT, SHARED
from tests.postgres import head_revision, postgres_server
from tests.servers import Server, chat, chroma_server

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
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()


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
    assert not list((tmp_path / "bots").rglob("*.sqlite3"))  # the knowledge catalog too
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


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


def _eval_set(name: str, docs: int, questions: int) -> tuple[list[dict], list[str]]:
    folder = SHARED / "eval" / name
    read = [json.loads(line) for line in (folder / "docs.jsonl").read_text("utf-8").splitlines()]
    asked = [
        json.loads(line) for line in (folder / "questions.jsonl").read_text("utf-8").splitlines()
    ]
    kept = {d["doc_id"] for d in read[:docs]}
    return read[:docs], [q["question"] for q in asked if q["doc_id"] in kept][:questions]


def _publish(homes: list[Any], doc: dict, text: str) -> None:
    from knowledge.documents import Block, BlockKind
    from knowledge.loaders.textblocks import paragraphs_of
    from knowledge.splitting import SplitSettings, split_blocks

    blocks = [Block(BlockKind.PARAGRAPH, p) for p in paragraphs_of(text)]
    chunks = split_blocks(blocks, SplitSettings(), doc.get("title") or "")
    version = f"{doc['doc_id']}-{len(text)}"
    for home in homes:
        home.publish(
            source=doc["doc_id"], path=doc["doc_id"], kind="text", sha256=version,
            version=version, pages=None, chunks=[(f"{version}-{c.ordinal}", c) for c in chunks],
        )  # fmt: skip


def _rank_alike(homes: list[Any], questions: list[str]) -> None:
    for question in questions:
        terms = Query.of(question).terms
        sqlite, postgres = (home.keyword_search(terms, 20) for home in homes)
        assert [c for c, _ in postgres] == [c for c, _ in sqlite], question
        assert [s for _, s in postgres] == pytest.approx([s for _, s in sqlite], rel=1e-9)


def test_keyword_search_ranks_alike_on_postgresql_and_sqlite(database: str, tmp_path: Path) -> None:
    """The same passages in both homes, then real questions in English, Malay and Chinese:
    the same passages found, in the same order, with the same BM25 scores; and still after
    documents are replaced and removed (the statistics BM25 uses change with them)."""
    from chatbot.store.database import open_database
    from knowledge.catalog.postgres import PostgresCatalog
    from knowledge.catalog.sqlite import SqliteCatalog

    engine = open_database(database)
    for name in ("clapnq-en-dev", "squad-ms-dev", "cmrc-zh-dev"):
        docs, questions = _eval_set(name, 120, 80)
        homes: list[Any] = [
            SqliteCatalog(tmp_path / name / "catalog.sqlite3"),
            PostgresCatalog(engine, name.replace("-", "_")),
        ]
        for doc in docs:
            _publish(homes, doc, doc["text"])
        found = [homes[1].keyword_search(Query.of(q).terms, 20) for q in questions]
        assert sum(map(bool, found)) > len(questions) / 2
        _rank_alike(homes, questions)
        for doc in docs[:10]:
            _publish(homes, doc, doc["text"][: len(doc["text"]) // 2])  # a new, shorter version
        for doc in docs[10:20]:
            assert all(home.remove(doc["doc_id"]) for home in homes)
        _rank_alike(homes, questions)
        assert [d.source for d in homes[1].documents()] == [d.source for d in homes[0].documents()]


def test_a_document_ingested_through_one_data_directory_is_found_through_another(
    database: str, chroma_url: str, run_cli, tmp_path: Path
) -> None:
    """Two deployments' data directories on one PostgreSQL and one Chroma server, as two
    servers are: what one ingests, the other finds by keyword and by meaning; what one
    forgets, the other no longer finds."""
    env = {
        "CHATBOT_DATABASE__URL": database,
        "CHATBOT_VECTOR_STORE__CHROMA_URL": chroma_url,
    }
    one, other = tmp_path / "one", tmp_path / "other"

    def search(data: Path, question: str) -> list[str]:
        result = run_cli("search", "--bot", "shared", question, "--json", data_dir=data, env=env)
        assert result.code == 0, result.err
        return [hit["source"] for hit in result.json_lines()[0]["hits"]]

    made = run_cli("bots", "create", "shared", data_dir=one, env=env)
    assert made.code == 0, made.err
    ingested = run_cli("ingest", "--bot", "shared", str(DEMO / "documents"), data_dir=one, env=env)
    assert ingested.code == 0, ingested.err
    assert search(other, "Do you deliver to Seberang Perai?")[0] == "policies.docx"
    assert search(other, "Where is the shop?")[0] == "faq.csv"
    from knowledge.retriever import KnowledgeRetriever  # and any LangChain app, the same

    retriever = KnowledgeRetriever.from_data_dir(
        other, "shared", chroma_url=chroma_url, database_url=database
    )
    assert retriever.invoke("Where is the shop?")[0].metadata["source"] == "faq.csv"
    with pytest.raises(KnowledgeError, match="no knowledge base for bot 'nobody'"):
        KnowledgeRetriever.from_data_dir(other, "nobody", database_url=database)
    forgot = run_cli("forget", "--bot", "shared", "policies.docx", data_dir=other, env=env)
    assert forgot.code == 0, forgot.err
    assert "policies.docx" not in search(one, "Do you deliver to Seberang Perai?")


_WRITER = """
import sys, threading
from pathlib import Path
from chatbot.store.database import open_database
from knowledge.base import KnowledgeBase
from knowledge.catalog.postgres import PostgresCatalog
from knowledge.documents import Block, BlockKind, LoadedDocument
from knowledge.embeddings import SentenceEmbedder
from knowledge.vectors import open_chroma

database, chroma_url = sys.argv[1:]
kb = KnowledgeBase(
    "crash", Path("."), open_chroma(url=chroma_url), SentenceEmbedder(),
    catalog=PostgresCatalog(open_database(database), "crash"),
)
blocks = [Block(BlockKind.FAQ, f"How much is item {i}?\\nItem {i} costs RM{i}.")
          for i in range(300)]  # an FAQ entry is a passage whole: 300 of them, in two batches

def stop_midway(done, total):
    print("embedding", done, total, flush=True)
    threading.Event().wait()  # killed here, its first vectors written, the rest not

kb.add_document(source="prices.txt", path="prices.txt", kind="text", sha256="x",
                loaded=LoadedDocument(blocks), on_progress=stop_midway)
"""


def test_a_writer_killed_mid_ingest_leaves_nothing_half_published(
    database: str, chroma_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """An ingest killed after its first vectors are written: while it lives, another server
    opening the bot leaves its vectors be (it may yet publish them); once it is gone, the next
    open deletes them, and nothing of the document was ever found."""
    from chatbot.store.database import open_database
    from knowledge.base import KnowledgeBase
    from knowledge.catalog.postgres import PostgresCatalog
    from knowledge.embeddings import SentenceEmbedder
    from knowledge.vectors import open_chroma

    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, database, chroma_url],
        cwd=ROOT, env={**cli_env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().startswith("embedding 256 300")
        chroma = open_chroma(url=chroma_url)
        engine = open_database(database)

        def opened() -> KnowledgeBase:
            catalog = PostgresCatalog(engine, "crash")
            return KnowledgeBase("crash", tmp_path, chroma, SentenceEmbedder(), catalog=catalog)

        collection = chroma.get_collection("kb-crash")
        assert collection.count() >= 256
        kb = opened()  # while the writer lives: its vectors are kept
        assert collection.count() >= 256
        assert kb.documents() == [] and kb.search("price of item 7") == []
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    deadline = time.monotonic() + 30
    while True:  # PostgreSQL ends the dead writer's session, and its lock with it, at once
        kb = opened()
        if collection.count() == 0 or time.monotonic() > deadline:
            break
    assert collection.count() == 0
    assert kb.documents() == [] and kb.search("price of item 7") == []


def test_servers_starting_at_once_migrate_a_new_database_once(database: str) -> None:
    """Two servers started together on an empty database (a fresh deployment's replicas):
    both start; the schema is made once."""
    from sqlalchemy import create_engine, text

    admin = create_engine(database, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text("CREATE DATABASE fresh"))
    admin.dispose()
    fresh = database.rsplit("/", 1)[0] + "/fresh"
    starting = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from chatbot.store.database import open_database;"
                " open_database(sys.argv[1])",
                fresh,
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = [(p.wait(120), p.stderr.read() if p.stderr else "") for p in starting]
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
