"""Customers' personal data under the PDPA (#6), end to end: `chatbot serve` driven over its chat
API, staff's `chatbot privacy` and `chatbot audit` commands, and every byte of the data
directory read back to see what is, and is not, kept."""

from __future__ import annotations

import json
import sqlite3
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatbot.store.personal_data import conversation_key
from tests.conftest import DEMO
from tests.servers import Server, chat, start_conversation

BOT = "care"
QUESTION = "Is the shop open on Sunday?"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, run_cli) -> Path:  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("privacy")
    # Every test here asks as the same visitor (127.0.0.1), a dozen times in all: within one
    # minute on a fast run, over the default 8 a minute. The limit is tested in test_embed_api.
    created = run_cli(
        "bots",
        "create",
        BOT,
        "business=Gadget Care",
        "limits.visitor_messages_per_minute=100",
        data_dir=data,
    )
    assert created.code == 0, created.err
    ingested = run_cli("ingest", "--bot", BOT, str(DEMO / "documents" / "faq.csv"), data_dir=data)
    assert ingested.code == 0, ingested.err
    return data


@pytest.fixture(scope="module")
def server(shop: Path, cli_env: dict[str, str]) -> Iterator[Server]:
    # Quoting mode: no chat model is needed to test what is kept of a conversation.
    server = Server(shop, {"CHATBOT_ANSWERING__MODE": "extract"}, cli_env)
    yield server
    server.stop()


def found_in(data: Path, *needles: str) -> list[str]:
    """The files of the data directory holding any of `needles`, byte for byte."""
    patterns = [n.encode() for n in needles]
    return [
        str(path.relative_to(data))
        for path in sorted(data.rglob("*"))
        if path.is_file() and any(p in path.read_bytes() for p in patterns)
    ]


def ask(server: Server, message: str, **options: Any) -> dict[str, Any]:
    response, events = chat(server, message, bot=BOT, **options)
    assert response.status_code == 200, response.text
    assert events[-1][0] == "done", events
    return dict(events[-1][1])


def test_a_customers_words_are_kept_masked_until_the_retention_period_ends_then_nowhere(
    server: Server, shop: Path, run_cli
) -> None:  # type: ignore[no-untyped-def]
    canary = f"kanari-{uuid.uuid4().hex}"
    done = ask(server, f"{QUESTION} Call me on 012-987 6543 about {canary}")
    rated = httpx.post(
        f"{server.url}/api/bots/{BOT}/answers/{done['answer_id']}/rating",
        json={"conversation_id": done["conversation_id"], "rating": "up"},
    )
    assert rated.status_code == 204
    assert found_in(shop, canary)  # kept: the customer agreed to that
    assert found_in(shop, "012-987 6543", "0129876543") == []  # but their number masked

    purged = run_cli("privacy", "purge", data_dir=shop)
    assert purged.code == 0, purged.err
    assert found_in(shop, canary)  # within the 30 days: still there

    assert run_cli("bots", "set", BOT, "retention_days=0", data_dir=shop).code == 0
    try:
        purged = run_cli("privacy", "purge", data_dir=shop)
        assert purged.code == 0, purged.err
        assert found_in(shop, canary) == []  # no file, no free page, no log holds it
        gone = httpx.get(f"{server.url}/api/bots/{BOT}/conversations/{done['conversation_id']}")
        assert gone.status_code == 404
    finally:
        assert run_cli("bots", "set", BOT, "retention_days=30", data_dir=shop).code == 0


def test_a_conversation_the_customer_chose_not_to_keep_is_never_written(
    server: Server, shop: Path
) -> None:
    canary = f"kanari-{uuid.uuid4().hex}"
    first = ask(server, f"{QUESTION} {canary}", keep=False)
    assert first["kept"] is False and first["answer_id"] is None  # nothing to rate
    follow_up = ask(server, "And on Saturday?", conversation_id=first["conversation_id"])
    assert follow_up["conversation_id"] == first["conversation_id"]
    assert found_in(shop, canary) == []


def test_nothing_is_read_before_the_customer_agrees_to_the_notice(
    server: Server, shop: Path
) -> None:
    canary = f"kanari-{uuid.uuid4().hex}"
    refused, _ = chat(server, f"{QUESTION} {canary}", bot=BOT, consent=False)
    assert refused.status_code == 428
    assert refused.json()["message"] == "Please read and accept the privacy notice before chatting."
    assert found_in(shop, canary) == []

    stale = httpx.post(
        f"{server.url}/api/bots/{BOT}/consent", json={"notice_version": "0" * 12, "keep": True}
    )
    assert stale.status_code == 409  # agreed to words that are no longer the notice
    profile = httpx.get(f"{server.url}/api/bots/{BOT}/profile").json()
    assert "Gadget Care" in profile["privacy"]["notice"]["ms"]  # in the chat's languages


def test_staff_export_and_erase_one_customer_and_leave_every_other_untouched(
    server: Server, shop: Path, run_cli
) -> None:  # type: ignore[no-untyped-def]
    siti = [
        ask(server, f"{QUESTION} I am Siti, siti.aminah@example.my")["conversation_id"],
        ask(server, "Saya Siti (SITI.AMINAH@example.my), bila kedai buka?")["conversation_id"],
    ]
    tan = ask(server, f"{QUESTION} Tan here, +60 16-222 3344")["conversation_id"]

    def export(*selector: str) -> dict[str, Any]:
        result = run_cli("privacy", "export", *selector, data_dir=shop)
        assert result.code == 0, result.err
        return dict(json.loads(result.out))

    exported = export("--contact", "Siti.Aminah@example.my")
    # Staff know each conversation by its key, never by the id the customer's browser holds.
    keys = sorted(conversation_key(c) for c in siti)
    assert sorted(c["conversation_id"] for c in exported["conversations"]) == keys
    questions = [t["question"] for c in exported["conversations"] for t in c["turns"]]
    assert all("[EMAIL]" in q and "siti.aminah@" not in q.lower() for q in questions)
    assert exported["conversations"][0]["consent"]["kept"] is True
    tan_before = export("--contact", "0162223344")  # typed as staff would, found all the same
    assert [c["conversation_id"] for c in tan_before["conversations"]] == [conversation_key(tan)]

    erased = run_cli(
        "privacy", "erase", "--contact", "siti.aminah@example.my", "--yes", data_dir=shop
    )
    assert erased.code == 0, erased.err
    for conversation in siti:
        shown = httpx.get(f"{server.url}/api/bots/{BOT}/conversations/{conversation}")
        assert shown.status_code == 404
    again = run_cli("privacy", "export", "--contact", "siti.aminah@example.my", data_dir=shop)
    assert again.code == 1 and again.err.startswith("error: nothing is held of contact")
    assert export("--conversation", tan) == tan_before  # the other customer: as they were

    report = run_cli("audit", "report", "--json", data_dir=shop)
    assert report.code == 0, report.err
    acts = json.loads(report.out)
    erasure = next(a for a in acts if a["action"] == "privacy.erase")
    assert erasure["actor"].startswith("cli:") and all(c in erasure["whose"] for c in keys)
    tan_key = conversation_key(tan)
    assert any(a["action"] == "privacy.export" and tan_key in a["whose"] for a in acts)
    assert not any(c in report.out for c in [*siti, tan])  # no customer's own id on record
    assert "siti.aminah" not in report.out.lower()  # the contact typed is masked in the log
    assert run_cli("audit", "verify", data_dir=shop).code == 0


def test_a_customer_erases_their_own_conversation(server: Server, shop: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    canary = f"kanari-{uuid.uuid4().hex}"
    conversation = ask(server, f"{QUESTION} {canary}")["conversation_id"]
    assert found_in(shop, canary)
    url = f"{server.url}/api/bots/{BOT}/conversations/{conversation}"
    assert httpx.delete(url).status_code == 204
    assert httpx.get(url).status_code == 404
    assert httpx.delete(url).status_code == 404
    assert found_in(shop, canary) == []
    report = run_cli("audit", "report", "--json", data_dir=shop)
    assert any(
        a["action"] == "conversation.erase"
        and a["actor"] == "customer"
        and conversation_key(conversation) in a["whose"]
        for a in json.loads(report.out)
    )


def test_the_data_directory_is_readable_by_the_service_user_only(
    server: Server, shop: Path
) -> None:
    ask(server, QUESTION)  # the server has written its database, logs and keys by now
    key = shop / "secrets" / "contacts.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) == 64
    open_to_others = [
        str(p.relative_to(shop))
        for p in [shop, *shop.rglob("*")]
        if stat.S_IMODE(p.stat().st_mode) & 0o077
    ]
    assert open_to_others == []


def test_an_edited_or_removed_audit_entry_is_found_and_named(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    for bot in ("one", "two", "three", "four"):
        assert run_cli("bots", "create", bot, data_dir=tmp_path).code == 0
    verified = run_cli("audit", "verify", data_dir=tmp_path)
    assert verified.code == 0 and verified.out.startswith("audit log intact")

    database = tmp_path / "chatbot.db"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE audit_log SET target = 'someone else' WHERE id = 2")
    tampered = run_cli("audit", "verify", data_dir=tmp_path)
    assert tampered.code == 1
    assert tampered.err.splitlines() == [
        "audit log: entry 2 (bot.create by cli:" + _user() + ") was changed"
    ]

    with sqlite3.connect(database) as db:
        db.execute("UPDATE audit_log SET target = 'two' WHERE id = 2")  # put back
        db.execute("DELETE FROM audit_log WHERE id = 3")
    removed = run_cli("audit", "verify", data_dir=tmp_path)
    assert removed.code == 1 and "entry 3 was removed" in removed.err

    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM audit_log WHERE id >= 3")
    cut = run_cli("audit", "verify", data_dir=tmp_path)
    assert cut.code == 1 and "the newest entries were removed" in cut.err


def _user() -> str:
    import getpass

    return getpass.getuser()


def test_consents_need_the_current_notice_and_a_clear_choice(server: Server) -> None:
    for body in ({"keep": True}, {"notice_version": "x", "keep": "yes"}, {}):
        refused = httpx.post(f"{server.url}/api/bots/{BOT}/consent", json=body)
        assert refused.status_code == 400
    assert len(start_conversation(server, bot=BOT, keep=False)) == 32


def test_staff_are_told_of_personal_data_in_an_upload_and_may_mask_it(
    tmp_path: Path, run_cli
) -> None:  # type: ignore[no-untyped-def]
    document = tmp_path / "warranty-claims.txt"
    document.write_text(
        "Warranty claims received in March.\n\n"
        "Claim 1: Ahmad, IC 850615-07-5123, phone 012-987 6543, screen cracked.\n\n"
        "Claim 2: Mei Ling, mei.ling@example.my, battery swollen. Order ORD-2024-0012345.\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    told = run_cli("ingest", "--bot", "staff", str(document), data_dir=data)
    assert told.code == 0, told.err
    assert (
        f"note: {document}: contains personal data (1 identity-card number, 1 phone number,"
        " 1 e-mail address); not masked" in told.out
    )
    assert "--mask-personal-data" in told.out

    masked = run_cli(
        "ingest", "--bot", "staff", "--mask-personal-data", str(document), data_dir=data
    )
    assert masked.code == 0, masked.err
    assert "ingested: 1" in masked.out  # the same file, masked: indexed anew, not "unchanged"
    hits = run_cli("search", "--bot", "staff", "--json", "warranty claim screen", data_dir=data)
    text = " ".join(h["text"] for h in json.loads(hits.out)["hits"])
    assert "[IC-NUMBER]" in text and "[PHONE]" in text and "[EMAIL]" in text
    assert "850615" not in text and "ORD-2024-0012345" in text


def test_every_socket_the_server_listens_on_is_on_loopback(server: Server) -> None:
    import psutil

    ask(server, QUESTION)  # every part is up by now: the web app, the models, the purge thread
    process = psutil.Process(server.proc.pid)
    listening = [
        c.laddr
        for p in [process, *process.children(recursive=True)]
        for c in p.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening and all(address.ip in ("127.0.0.1", "::1") for address in listening)


def test_each_staff_change_from_the_command_line_is_audited_once(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    documents = Path(__file__).parents[1] / "chatbot" / "demo" / "documents"
    assert (
        run_cli("ingest", "--bot", "shop", str(documents / "faq.csv"), data_dir=tmp_path).code == 0
    )
    assert run_cli("reindex", "--bot", "shop", data_dir=tmp_path).code == 0
    created = run_cli(
        "admin",
        "create",
        "aisyah",
        "--password-stdin",
        data_dir=tmp_path,
        stdin="a long enough passphrase\n",
    )
    assert created.code == 0, created.err
    assert run_cli("admin", "remove", "aisyah", data_dir=tmp_path).code != 0  # the last owner
    with sqlite3.connect(tmp_path / "chatbot.db") as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["knowledge.upload", "knowledge.reindex", "account.create"]
