"""Several Ollama servers (#20): answers spread across them, one that is down skipped without a
customer noticing and asked again later, one that fails mid-answer left out of the next, and
/readyz saying which are up. The servers are tests/ollama_stub.py's, speaking Ollama's API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langchain_core.messages import HumanMessage

from chatbot.llm.base import ModelUnavailable
from chatbot.llm.ollama_pool import OllamaPool
from tests.conftest import DEMO
from tests.ollama_stub import OllamaStub
from tests.servers import Server, chat, free_port

ASK = [HumanMessage("When are you open?")]


@pytest.fixture
def two() -> Iterator[tuple[OllamaStub, OllamaStub]]:
    with OllamaStub() as one, OllamaStub() as other:
        yield one, other


@pytest.mark.contract
def test_answers_are_spread_across_the_servers(two: tuple[OllamaStub, OllamaStub]) -> None:
    pool = OllamaPool(hosts=[s.url for s in two], model="qwen2.5:3b")
    answers = [pool.invoke(ASK).content for _ in range(6)]
    assert answers == ["We are open Monday to Saturday."] * 6
    assert [len(s.state.chats) for s in two] == [3, 3]
    assert pool.servers() == {two[0].url: "up", two[1].url: "up"}


@pytest.mark.contract
def test_a_server_that_is_down_is_skipped_and_asked_again_later(
    two: tuple[OllamaStub, OllamaStub],
) -> None:
    alive = two[0]
    port = free_port()  # nothing listens there yet: a server that is down
    dead = f"http://127.0.0.1:{port}"
    pool = OllamaPool(hosts=[dead, alive.url], model="qwen2.5:3b", retry_after_s=0.5)
    assert all(pool.invoke(ASK).content for _ in range(4))  # no answer lost to it
    assert len(alive.state.chats) == 4
    assert "not reachable" in pool.servers()[dead] or "failed" in pool.servers()[dead]
    with OllamaStub(port=port) as revived:  # the server comes back
        deadline = time.monotonic() + 20
        while not revived.state.chats:  # asked again once its time out is over
            assert time.monotonic() < deadline, "a server that came back was never asked again"
            pool.invoke(ASK)
            time.sleep(0.05)  # polling for a state, not timing anything
        assert pool.servers()[dead] == "up"


@pytest.mark.contract
def test_a_server_failing_mid_answer_fails_that_answer_and_is_left_out_of_the_next(
    two: tuple[OllamaStub, OllamaStub],
) -> None:
    failing, healthy = two
    failing.state.die_after_chunks = 1
    pool = OllamaPool(hosts=[failing.url, healthy.url], model="qwen2.5:3b", retry_after_s=60)
    with pytest.raises(ModelUnavailable):  # half read: the chain answers without the model
        list(pool.stream(ASK))
    assert [pool.invoke(ASK).content for _ in range(3)] == ["We are open Monday to Saturday."] * 3
    assert len(failing.state.chats) == 1 and len(healthy.state.chats) == 3


@pytest.mark.contract
def test_none_up_is_the_one_line_offline_reason() -> None:
    pool = OllamaPool(hosts=[f"http://127.0.0.1:{free_port()}" for _ in "ab"], model="qwen2.5:3b")
    with pytest.raises(ModelUnavailable, match="no Ollama server can answer"):
        pool.check()


@pytest.mark.slow
def test_readyz_says_which_ollama_servers_are_up(
    two: tuple[OllamaStub, OllamaStub],
    tmp_path: Path,
    run_cli,  # type: ignore[no-untyped-def]
    cli_env: dict[str, str],
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    hosts = f'["{two[0].url}", "{dead}"]'
    env = {"CHATBOT_MODEL__BACKEND": "ollama", "CHATBOT_MODEL__OLLAMA_HOSTS": hosts}
    assert run_cli("ingest", str(DEMO / "documents"), data_dir=tmp_path, env=env).code == 0
    server = Server(tmp_path, env, cli_env)
    try:
        ready = httpx.get(f"{server.url}/readyz", timeout=30)
        assert ready.status_code == 200, ready.text  # one server up is enough to answer
        body = ready.json()
        assert body["model_servers"][two[0].url] == "up"
        assert "not reachable" in body["model_servers"][dead]
        answered, events = chat(server, "What are your opening hours?", bot="default")
        assert answered.status_code == 200 and events[-1][0] == "done"
        assert two[0].state.chats  # asked of the server that is up
    finally:
        server.stop()
