"""The same knowledge base on a real Chroma server (`chroma run`), and when it is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO, corpus
from tests.servers import chroma_server, free_port


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


def test_a_knowledge_base_on_a_chroma_server_ingests_and_searches(
    tmp_path: Path, chroma_url: str, run_cli
) -> None:
    env = {"CHATBOT_VECTOR_STORE__CHROMA_URL": chroma_url}
    result = run_cli(
        "ingest", str(corpus("csv/covid-faq-213-pairs.csv")), data_dir=tmp_path, env=env
    )
    assert result.code == 0, result.err
    assert not (tmp_path / "chroma").exists()  # the vectors went to the server
    found = run_cli(
        "search", "How long is someone infectious?", "--json", data_dir=tmp_path, env=env
    ).json_lines()[0]
    assert found["hits"][0]["source"] == "covid-faq-213-pairs.csv"
    collections = httpx.get(
        f"{chroma_url}/api/v2/tenants/default_tenant/databases/default_database/collections"
    ).json()
    assert [c["name"] for c in collections] == ["kb-default"]


def test_an_unreachable_chroma_server_is_a_one_line_error(tmp_path: Path, run_cli) -> None:
    env = {"CHATBOT_VECTOR_STORE__CHROMA_URL": f"http://127.0.0.1:{free_port()}"}
    result = run_cli("search", "anything", data_dir=tmp_path, env=env)
    assert result.code == 1
    assert result.err.startswith("error: cannot reach the Chroma server at http://127.0.0.1:")
    assert result.err.count("\n") == 1


def test_a_chroma_server_that_goes_down_while_serving_is_said_and_survived(
    tmp_path: Path, run_cli, cli_env: dict[str, str]
) -> None:
    """Customers are told the assistant is offline, with the shop's contact (not an error),
    /readyz names the vector store, and once it is back the chat answers again."""
    from tests.servers import Server, chat, shown_text

    port = free_port()
    env = {
        "CHATBOT_VECTOR_STORE__CHROMA_URL": f"http://127.0.0.1:{port}",
        "CHATBOT_ANSWERING__MODE": "extract",
    }
    question = "Do you deliver to Seberang Perai?"
    with chroma_server(tmp_path / "chroma", port):
        made = run_cli(
            "bots", "create", "kedai", "contact=Call us at 04-261 1234", data_dir=tmp_path, env=env
        )
        assert made.code == 0, made.err
        assert run_cli("ingest", "--bot", "kedai", str(DEMO / "documents"),
                       data_dir=tmp_path, env=env).code == 0  # fmt: skip
        server = Server(tmp_path, env, cli_env)
        _, before = chat(server, question, bot="kedai")
        assert "RM12" in shown_text(before)
    try:  # the Chroma server is gone
        answered, events = chat(server, question, bot="kedai")
        assert answered.status_code == 200
        done = events[-1][1]
        assert done["fallback"] == "store_error" and "04-261 1234" in done["answer"]
        ready = httpx.get(f"{server.url}/readyz", timeout=30)
        assert ready.status_code == 503
        assert "vector store is unavailable" in ready.json()["problems"]["kedai"]
        with chroma_server(tmp_path / "chroma", port):  # back, with its data
            _, after = chat(server, question, bot="kedai")
            assert "RM12" in shown_text(after)
    finally:
        server.stop()
