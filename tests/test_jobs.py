"""Ingestion as jobs (#20): an upload is queued at once; `chatbot worker` processes, any of them,
take it from the PostgreSQL database; its progress is read from the database by any server; and
a worker killed in the middle of a job loses nothing: another takes the job over, goes on from
the first file not done, and what the dead one had half-written was never found."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO, ROOT
from tests.postgres import postgres_server
from tests.servers import chroma_server, free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with postgres_server() as database, chroma_server(tmp_path_factory.mktemp("chroma")) as chroma:
        yield {
            "data": tmp_path_factory.mktemp("data"),
            "env": {
                "CHATBOT_DATABASE__URL": database,
                "CHATBOT_VECTOR_STORE__CHROMA_URL": chroma,
                "CHATBOT_JOBS__STALLED_AFTER_S": "3",
                # The website the tests read is served on loopback.
                "CHATBOT_CRAWL__ALLOW_PRIVATE_ADDRESSES": "true",
                "CHATBOT_CRAWL__TIMEOUT_S": "3",
            },
        }


def _services(deployment: dict[str, Any]) -> Any:
    """A server's services, as `chatbot serve` builds them from its settings."""
    from chatbot.services import Services
    from chatbot.settings import Settings

    env = deployment["env"]
    return Services(
        Settings(
            data_dir=deployment["data"],
            database={"url": env["CHATBOT_DATABASE__URL"]},
            vector_store={"chroma_url": env["CHATBOT_VECTOR_STORE__CHROMA_URL"]},
            crawl={"allow_private_addresses": True, "timeout_s": 3},
        )
    )


class Worker:
    """`chatbot worker` as a deployment runs it, in a process of its own."""

    def __init__(self, deployment: dict[str, Any], cli_env: dict[str, str], name: str) -> None:
        self.log = deployment["data"] / f"{name}.out"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chatbot", "--data-dir", str(deployment["data"]), "worker",
             "--name", name],
            env={**cli_env, **deployment["env"]}, cwd=ROOT, stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def _until(condition: Any, what: str, limit_s: float = 180) -> Any:
    deadline = time.monotonic() + limit_s
    while not (found := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)  # polling the database for a state, not timing anything
    return found


def test_an_upload_is_queued_at_once_and_any_worker_ingests_it(
    deployment: dict[str, Any], cli_env: dict[str, str], tmp_path: Path
) -> None:
    from chatbot.actions.knowledge import queue_upload

    web, other_server = _services(deployment), _services(deployment)
    web.bots.create("queued")
    bad = tmp_path / "notes.pdf"
    bad.write_bytes(b"not a PDF at all")
    files = [DEMO / "documents" / "faq.csv", DEMO / "documents" / "price-list.pdf", bad]
    started = time.monotonic()
    job_id = queue_upload(web, "queued", files, "aisyah")
    assert time.monotonic() - started < 5  # returns without reading a page
    assert web.ingest_jobs.get(job_id).state == "queued"
    assert web.knowledge("queued").documents() == []
    worker = Worker(deployment, cli_env, "first")
    try:
        seen = _until(
            lambda: (j := other_server.ingest_jobs.get(job_id)).state == "done" and j,
            "the worker never finished the job",
        )
    finally:
        worker.stop()
    outcomes = {f.name: (f.outcome, f.chunks > 0) for f in seen.files}
    assert outcomes == {
        "faq.csv": ("ingested", True),
        "price-list.pdf": ("ingested", True),
        "notes.pdf": ("rejected", False),
    }
    assert "PDF" in next(f.detail for f in seen.files if f.name == "notes.pdf")
    hits = other_server.knowledge("queued").search("How much does an iPhone battery cost?")
    assert hits and hits[0].source == "price-list.pdf"
    audit = [entry.action for entry in web.audit.entries(limit=20)]
    assert "knowledge.upload.queued" in audit and "knowledge.upload" in audit


def test_a_website_read_is_a_job_and_the_schedule_queues_one_read_however_often_it_looks(
    deployment: dict[str, Any], cli_env: dict[str, str]
) -> None:
    from chatbot.actions.websites import WebsiteSchedule, queue_website_read
    from tests.website import Website

    web = _services(deployment)
    web.bots.create("aircon-jobs")
    with Website() as site:
        job_id = queue_website_read(web, "aircon-jobs", site.url, "aisyah")
        assert job_id is not None and not site.state.requests  # queued: nothing read yet
        worker = Worker(deployment, cli_env, "reader")
        try:
            read = _until(
                lambda: (j := web.ingest_jobs.get(job_id)).state == "done" and j,
                "the worker never read the website",
            )
            assert read.progress.startswith("5 new")
            assert web.knowledge("aircon-jobs").search("How much is a chemical wash?")
            before = len(site.requested("/about"))
            later = time.time() + 25 * 3600
            schedules = [WebsiteSchedule(_services(deployment), 600) for _ in range(3)]
            queued = [len(s.run_once(now=later)) for s in schedules]  # three servers look
            assert queued == [1, 0, 0]  # the site is due for all three; one read is queued
            jobs = [j for j in web.ingest_jobs.of_bot("aircon-jobs") if j.kind == "schedule"]
            assert len(jobs) == 1
            _until(
                lambda: web.ingest_jobs.get(jobs[0].id).state == "done",
                "the scheduled read was never done",
            )
        finally:
            worker.stop()
        assert len(site.requested("/about")) == before + 1  # read once, not three times
    with pytest.raises(Exception, match="address"):
        queue_website_read(web, "aircon-jobs", "not a web address", "aisyah")


def test_a_job_waits_for_a_vector_store_that_is_down_and_loses_nothing(
    deployment: dict[str, Any], cli_env: dict[str, str], tmp_path: Path
) -> None:
    """The Chroma server down when a worker takes an upload: the job says it is waiting and
    why, keeps its files, and is done once the store is back."""
    from chatbot.actions.knowledge import queue_upload

    port = free_port()
    env = {
        **deployment["env"],
        "CHATBOT_VECTOR_STORE__CHROMA_URL": f"http://127.0.0.1:{port}",
        "CHATBOT_JOBS__RETRY_AFTER_S": "1",
    }
    down = {"data": deployment["data"], "env": env}
    web = _services(down)
    web.bots.create("patient")
    job_id = queue_upload(web, "patient", [DEMO / "documents" / "faq.csv"], "aisyah")
    worker = Worker(down, cli_env, "patient")
    try:
        waiting = _until(
            lambda: "Chroma server" in (j := web.ingest_jobs.get(job_id)).progress and j,
            "the job never said it was waiting for the vector store",
        )
        assert waiting.progress.startswith("waiting 1 s: cannot reach the Chroma server")
        assert waiting.state == "queued" and waiting.files[0].outcome is None
        with chroma_server(tmp_path / "chroma", port):
            done = _until(
                lambda: (j := web.ingest_jobs.get(job_id)).state == "done" and j,
                "the job was not done once the store was back",
            )
            assert done.files[0].outcome == "ingested" and done.attempts >= 2
            assert web.knowledge("patient").search("Where is the shop?")
    finally:
        worker.stop()


def test_a_worker_killed_mid_job_loses_nothing(
    deployment: dict[str, Any], cli_env: dict[str, str], tmp_path: Path
) -> None:
    from chatbot.actions.knowledge import queue_upload

    web = _services(deployment)
    web.bots.create("crash")
    big = tmp_path / "parts.csv"
    with big.open("w", newline="", encoding="utf-8") as f:
        rows = csv.writer(f)
        rows.writerow(["question", "answer"])
        for n in range(1500):
            rows.writerow([f"How much is spare part {n}?", f"Spare part {n} costs RM{n + 10}."])
    files = [DEMO / "documents" / "faq.csv", big, DEMO / "documents" / "policies.docx"]
    job_id = queue_upload(web, "crash", files, "aisyah")
    first = Worker(deployment, cli_env, "doomed")
    try:
        _until(
            lambda: "parts.csv" in (p := web.ingest_jobs.get(job_id).progress) and "passages" in p,
            "the first worker never began embedding the big file",
        )
    finally:
        first.kill()  # in the middle of parts.csv: faq.csv done, policies.docx not begun
    assert web.ingest_jobs.get(job_id).state == "running"
    assert [d.source for d in web.knowledge("crash").documents()] == ["faq.csv"]
    second = Worker(deployment, cli_env, "rescuer")
    try:
        done = _until(
            lambda: (j := web.ingest_jobs.get(job_id)).state == "done" and j,
            "no worker took the dead worker's job over",
        )
    finally:
        second.stop()
    assert done.attempts == 2
    assert [(f.name, f.outcome) for f in done.files] == [
        ("faq.csv", "ingested"),  # once, by the first worker: not read again
        ("parts.csv", "ingested"),
        ("policies.docx", "ingested"),
    ]
    kb = _services(deployment).knowledge("crash")
    by_source = {d.source: d.chunks for d in kb.documents()}
    assert by_source["parts.csv"] == 1500
    assert kb.search("How much is spare part 1234?")[0].text.count("RM1244") == 1
    # Every vector is a visible passage's (one for each, one for each FAQ question): none
    # left of the dead worker's half-written version.
    collection = web.chroma.get_collection("kb-crash")
    faq_entries = sum(by_source.values()) - by_source["policies.docx"]
    assert collection.count() == sum(by_source.values()) + faq_entries


def test_staff_upload_in_the_console_and_watch_a_worker_ingest_it_from_either_server(
    deployment: dict[str, Any],
    cli_env: dict[str, str],
    browser: Any,
    run_cli,  # type: ignore[no-untyped-def]
) -> None:
    from tests.servers import Server
    from tests.test_console import EDITOR, PASSWORD, choose_bot, open_console

    data, env = deployment["data"], {**deployment["env"], "CHATBOT_ANSWERING__MODE": "extract"}
    for args in (
        ("bots", "create", "console-shop"),
        ("admin", "create", EDITOR, "--role", "editor", "--password-stdin"),
    ):
        made = run_cli(*args, data_dir=data, env=env, stdin=PASSWORD + "\n")
        assert made.code == 0, made.err  # fmt: skip
    one = Server(data, env, cli_env, log_name="console-one.out")
    other = Server(data, env, cli_env, log_name="console-other.out")
    worker = Worker(deployment, cli_env, "console-worker")
    try:
        page = open_console(browser, one, EDITOR)
        choose_bot(page, "console-shop")
        page.locator("input[type=file]").first.set_input_files(
            [str(DEMO / "documents" / "price-list.pdf")]
        )
        page.get_by_role("button", name="Add to the knowledge base").click()
        page.get_by_text("Queued as upload job").wait_for(timeout=60_000)
        page.get_by_text("price-list.pdf: ingested").wait_for(timeout=180_000)
        watching = open_console(browser, other, EDITOR)  # the other server shows the same job
        choose_bot(watching, "console-shop")
        watching.get_by_text("price-list.pdf: ingested").wait_for(timeout=60_000)
        watching.get_by_text("1 file(s) read").wait_for()
        page.close()
        watching.close()
    finally:
        worker.stop()
        one.stop()
        other.stop()
