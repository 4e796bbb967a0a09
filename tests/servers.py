"""`chatbot serve` (or `demo`) run as a real process on a free loopback port."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def chroma_server(folder: Path, port: int | None = None) -> Iterator[str]:
    """A real Chroma server (`chroma run`, from the chromadb package) keeping its data in
    `folder`, on `port` (a free one by default: a given one lets a test bring it back); yields
    its URL once it answers."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma command comes with the chromadb package"
    port = port or free_port()
    server = subprocess.Popen(
        [chroma, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
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
        # Polling for start-up, not timing anything: a loop that never yields takes a core
        # from the server it waits for and from the other tests.
        time.sleep(0.1)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(10)


class Server:
    def __init__(
        self,
        data: Path,
        env: dict[str, str],
        cli_env: dict[str, str],
        verb: str = "serve",
        cwd: Path = ROOT,
        log_name: str = "serve.out",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data / log_name
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chatbot",
                "--data-dir",
                str(data),
                verb,
                "--port",
                str(self.port),
            ],
            env={**cli_env, **env, "PYTHONUNBUFFERED": "1"},
            cwd=cwd,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"chatbot serve exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)  # polling for start-up, not timing anything
        pytest.fail("chatbot serve did not start within 240 s")

    def holds(self, path: Path) -> bool:
        """Whether the server has `path` mapped into its memory (llama.cpp maps the model file
        it loads)."""
        maps = Path(f"/proc/{self.proc.pid}/maps").read_text()
        return str(path.resolve()) in maps

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


Event = tuple[str, dict[str, Any]]


def start_conversation(
    server: Server,
    *,
    bot: str = "demo-shop",
    keep: bool = True,
    headers: dict[str, str] | None = None,
) -> str:
    """Agree to the bot's privacy notice as its chat page does; the new conversation's id."""
    profile = httpx.get(f"{server.url}/api/bots/{bot}/profile", headers=headers, timeout=30)
    version = profile.json()["privacy"]["version"]
    agreed = httpx.post(
        f"{server.url}/api/bots/{bot}/consent",
        json={"notice_version": version, "keep": keep},
        headers=headers,
        timeout=30,
    )
    assert agreed.status_code == 201, agreed.text
    return str(agreed.json()["conversation_id"])


def chat(
    server: Server,
    message: str,
    *,
    bot: str = "demo-shop",
    visitor: str | None = None,
    conversation_id: str | None = None,
    headers: dict[str, str] | None = None,
    consent: bool = True,
    keep: bool = True,
) -> tuple[httpx.Response, list[Event]]:
    """POST a message to the chat API as a front end would; the response and its server-sent
    events in order (none when refused). Without a `conversation_id`, one is started by agreeing
    to the privacy notice (keeping the conversation or not), unless `consent` is False.
    `visitor` goes in X-Forwarded-For, which a server that trusts loopback as its proxy
    believes."""
    sent = {**({"X-Forwarded-For": visitor} if visitor else {}), **(headers or {})}
    if conversation_id is None and consent:
        conversation_id = start_conversation(server, bot=bot, keep=keep, headers=sent)
    with httpx.stream(
        "POST",
        f"{server.url}/api/bots/{bot}/chat",
        json={"message": message, "conversation_id": conversation_id},
        headers=sent,
        timeout=180,
    ) as response:
        if response.status_code != 200:
            response.read()
            return response, []
        return response, parse_events(response.iter_text())


def parse_events(pieces: Iterator[str]) -> list[Event]:
    events, buffer = [], ""
    for piece in pieces:
        buffer += piece
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            events.append((lines["event"], json.loads(lines["data"])))
    return events


def shown_text(events: list[Event]) -> str:
    """What the visitor ends up seeing of the answer."""
    done = [data for name, data in events if name == "done"]
    return str(done[-1]["answer"]) if done else ""


def sources_of(events: list[Event]) -> list[str]:
    done = [data for name, data in events if name == "done"]
    return [s["source"] for s in done[-1]["sources"]] if done else []
