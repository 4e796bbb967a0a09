"""`chatbot serve` (or `demo`) run as a real process on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(
        self, data: Path, env: dict[str, str], cli_env: dict[str, str], verb: str = "serve"
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data / "serve.out"
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
            cwd=ROOT,
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

    def chat(self, bot: str = "demo-shop") -> Any:
        from gradio_client import Client

        return Client(f"{self.url}/chat/{bot}/", verbose=False, download_files=False)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
