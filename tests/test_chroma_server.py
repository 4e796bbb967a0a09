"""The same knowledge base on a real Chroma server (`chroma run`), and when it is down."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import corpus


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma command comes with the chromadb package"
    port = _free_port()
    server = subprocess.Popen(
        [
            chroma,
            "run",
            "--path",
            str(tmp_path_factory.mktemp("chroma-server")),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:  # wait for readiness by asking, not by sleeping
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert server.poll() is None, "chroma run exited"
        assert time.monotonic() < deadline, "chroma run did not become ready"
    yield url
    server.terminate()
    server.wait(10)


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
    env = {"CHATBOT_VECTOR_STORE__CHROMA_URL": f"http://127.0.0.1:{_free_port()}"}
    result = run_cli("search", "anything", data_dir=tmp_path, env=env)
    assert result.code == 1
    assert result.err.startswith("error: cannot reach the Chroma server at http://127.0.0.1:")
    assert result.err.count("\n") == 1
