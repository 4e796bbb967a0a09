"""The fast tier (`make test-fast`): the contracts, in one process, in a few minutes. The
answering chain with a scripted LangChain chat model, the chat API through FastAPI's test client
(and schemathesis against its OpenAPI document), a knowledge base on a temporary Chroma; and the
network guard the acceptance tier relies on, shown to trip."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from chatbot.answering.chain import Answerer
from chatbot.answering.prompts import PromptSet
from chatbot.answering.result import Delta, Done, Event
from chatbot.settings import AnsweringSettings, BotProfile, load_settings
from knowledge.base import KnowledgeBase

pytestmark = pytest.mark.contract

BATTERY = "How much does an iPhone battery replacement cost?"


def scripted(*answers: str) -> GenericFakeChatModel:
    """A LangChain chat model that answers with these texts, in turn, streamed word by word."""
    return GenericFakeChatModel(messages=iter([AIMessage(content=a) for a in answers]))


def answerer(knowledge: KnowledgeBase, model: Any) -> Answerer:
    return Answerer(
        knowledge=knowledge,
        model=model,
        prompts=PromptSet.load(None),
        profile=BotProfile(business="Gadget Care Penang", phone="04-261 8888"),
        settings=AnsweringSettings(),
    )


def shown(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, Delta))


def test_a_scripted_models_sourced_answer_is_shown_as_the_models(
    shop_knowledge: KnowledgeBase,
) -> None:
    model = scripted("An iPhone battery replacement is RM150, done in 45 minutes.")
    events = list(answerer(shop_knowledge, model).stream(BATTERY))
    done = events[-1]
    assert isinstance(done, Done) and done.answer.kind == "model"
    assert shown(events) == "An iPhone battery replacement is RM150, done in 45 minutes."
    assert done.answer.model == "GenericFakeChatModel"


def test_a_scripted_models_wrong_price_never_reaches_the_screen(
    shop_knowledge: KnowledgeBase,
) -> None:
    model = scripted("An iPhone battery replacement is RM99, done in 45 minutes.")
    events = list(answerer(shop_knowledge, model).stream(BATTERY))
    done = events[-1]
    assert isinstance(done, Done) and done.answer.kind == "extract"
    assert "RM99" not in shown(events) and "iPhone battery: RM150" in shown(events)


# -- the chat API through FastAPI's test client ---------------------------------------------
@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, shop_documents: Path) -> Iterator[TestClient]:
    from chatbot.actions.knowledge import ingest_files
    from chatbot.services import Services
    from chatbot.web.app import create_app

    data = tmp_path_factory.mktemp("api")
    settings = load_settings(data_dir=data)
    settings.answering.mode = "extract"  # the contract of the API, not of a model
    services = Services(settings)
    services.bots.create("shop", {"allowed_origins": ["https://shop.example"]})
    ingest_files(services, "shop", [shop_documents], "test")
    with TestClient(create_app(services)) as client:
        yield client
    services.close()


def consented(client: TestClient) -> str:
    version = client.get("/api/bots/shop/profile").json()["privacy"]["version"]
    agreed = client.post("/api/bots/shop/consent", json={"notice_version": version, "keep": True})
    assert agreed.status_code == 201, agreed.text
    return str(agreed.json()["conversation_id"])


def events_of(body: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_the_chat_api_streams_the_answer_in_the_customers_language(api: TestClient) -> None:
    conversation = consented(api)
    reply = api.post(
        "/api/bots/shop/chat",
        json={"message": "Adakah kedai buka pada hari Ahad?", "conversation_id": conversation},
        headers={"Origin": "https://shop.example"},
    )
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == "https://shop.example"
    events = events_of(reply.text)
    assert [name for name, _ in events] == ["start", "delta", "done"]
    assert events[0][1]["language"] == "ms"
    assert events[-1][1]["kind"] == "extract" and "tutup pada hari Ahad" in events[1][1]["text"]


@pytest.mark.parametrize(
    ("request_args", "status", "error"),
    [
        ({"json": {"message": "hi"}}, 428, "consent_required"),
        (
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "bad_request",
        ),
        ({"content": b"message=hi", "headers": {"Content-Type": "text/plain"}}, 415, "bad_request"),
        ({"json": {"message": 42}}, 400, "bad_request"),
        ({"json": {"message": "x" * 20_000}}, 413, "too_long"),
    ],
)
def test_every_refusal_is_polite_json_in_the_visitors_language(
    api: TestClient, request_args: dict[str, Any], status: int, error: str
) -> None:
    headers = {"Accept-Language": "ms-MY,ms;q=0.9", **request_args.pop("headers", {})}
    reply = api.post("/api/bots/shop/chat", headers=headers, **request_args)
    assert reply.status_code == status
    body = reply.json()
    assert body["error"] == error and body["message"]
    english = api.post("/api/bots/shop/chat", **request_args).json()["message"]
    assert body["message"] != english  # said in Malay, not in English


def test_a_site_the_bot_does_not_allow_and_an_unknown_bot_are_refused(api: TestClient) -> None:
    foreign = api.get("/api/bots/shop/profile", headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["error"] == "not_allowed"
    assert "access-control-allow-origin" not in foreign.headers
    unknown = api.post("/api/bots/nobody/consent", json={"notice_version": "x", "keep": True})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_bot"
    bad_id = api.post("/api/bots/shop/answers/seven/rating", json={})
    assert bad_id.status_code == 400 and bad_id.json()["error"] == "bad_request"


def test_the_api_describes_itself_with_its_request_bodies(api: TestClient) -> None:
    document = api.get("/api/openapi.json").json()
    chat = document["paths"]["/api/bots/{bot}/chat"]["post"]
    schema = chat["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["message"]
    assert "/api/bots/{bot}/consent" in document["paths"]
    assert not any(path.startswith("/admin") for path in document["paths"])


def test_no_request_the_api_describes_makes_it_fail(api: TestClient) -> None:
    # Whatever schemathesis makes of the documented requests (and of the hostile variants it
    # derives), the server answers with a reason, never a 5xx. (Its pytest plugin's fixture
    # loader does not run under pytest 9 yet: the operations are driven here instead.)
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_asgi("/api/openapi.json", api.app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_with_a_reason(case: Any) -> None:
            if "bot" in (case.path_parameters or {}):
                case.path_parameters["bot"] = "shop"  # past the 404: bodies, ids, limits
            response = case.call()
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
            # Every answer the API gives is one its document describes, refusals included.
            documented = case.operation.definition.raw["responses"]
            if str(response.status_code) not in documented:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} undocumented"
                )
            elif 400 <= response.status_code < 600 and case.path.startswith("/api/"):
                body = response.json()
                if set(body) < {"error", "message"}:
                    failures.append(f"{case.method} {case.formatted_path}: refusal body {body}")

        answers_with_a_reason()
    assert not failures, failures


# -- the network guard ------------------------------------------------------------------------
def test_the_network_guard_refuses_and_records_a_connection_off_the_machine(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    log = tmp_path / "outbound.log"
    attempt = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('192.0.2.1', 443), timeout=5)\n"  # TEST-NET-1
        "except ConnectionRefusedError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", attempt],
        env={**cli_env, "CHATBOT_TEST_NETLOG": str(log)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "test network guard: outbound connection to ('192.0.2.1', 443)" in result.stdout
    assert "192.0.2.1" in log.read_text(encoding="utf-8")
