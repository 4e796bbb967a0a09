"""Chats per minute with one `chatbot serve` and with two, in the same run.

The deployment #20 describes, on this machine: PostgreSQL (application database and knowledge
catalog), Redis (shared state), a Chroma server (vectors), the demo shop's documents, and the
Ollama stub as the model at a fixed pace (so the model is not the bottleneck: what is measured is
what the servers do around it). Visitors, each from an address of their own, start a
conversation and ask the demo shop's questions in a loop, spread evenly over the servers.

    python -m bench.chats                     # 16 visitors, 45 s per configuration
    python -m bench.chats --visitors 32 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench.common import ROOT, table

DEMO = ROOT / "chatbot" / "demo"
PAUSE_S = 0.02  # the stub's pause before each 6-character chunk: ~300 characters a second


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _questions() -> list[str]:
    lines = (DEMO / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    asked = [json.loads(line) for line in lines if line.strip()]
    return [q["question"] for q in asked if "question" in q]  # follow-ups ("turns") left out


def _visitor(url: str, address: str, questions: list[str], until: float, out: list[float]) -> None:
    """One visitor: a conversation, then question after question until `until`; each chat's
    seconds from sending to its last event go into `out`."""
    headers = {"X-Forwarded-For": address}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        version = client.get("/api/bots/kedai/profile").json()["privacy"]["version"]
        n = 0
        while time.monotonic() < until:
            if n % 30 == 0:  # a new conversation before the bot's limit on turns
                agreed = client.post(
                    "/api/bots/kedai/consent", json={"notice_version": version, "keep": True}
                )
                conversation = agreed.json()["conversation_id"]
            started = time.monotonic()
            body = {"message": questions[n % len(questions)], "conversation_id": conversation}
            with client.stream("POST", "/api/bots/kedai/chat", json=body) as response:
                text = "".join(response.iter_text())
            if response.status_code == 200 and "event: done" in text:
                out.append(time.monotonic() - started)
            n += 1


def _measure(urls: list[str], visitors: int, seconds: float) -> tuple[float, float, int]:
    """(chats a minute, median seconds a chat, chats) with `visitors` spread over `urls`."""
    questions, done = _questions(), []
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=_visitor,
            args=(urls[i % len(urls)], f"198.51.{i // 200}.{i % 200 + 1}", questions, until, done),
        )
        for i in range(visitors)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return len(done) / elapsed * 60, statistics.median(done) if done else 0.0, len(done)


def _peak_mb(pid: int) -> float:
    """A process's peak resident memory (Linux's VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=45)
    args = parser.parse_args()

    from tests.ollama_stub import OllamaStub
    from tests.postgres import postgres_server
    from tests.redis_server import redis_server
    from tests.servers import Server, chroma_server

    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-chats-")))
        database = stack.enter_context(postgres_server())
        redis = stack.enter_context(redis_server())
        chroma = stack.enter_context(chroma_server(folder / "chroma"))
        ollama = stack.enter_context(OllamaStub())
        ollama.state.chunk_pause_s = PAUSE_S
        ollama.state.reply = (
            "A screen replacement for the iPhone 14 is RM480, done within two hours while you"
            " wait; we give the exact price after a free inspection."
        )
        env = {
            "CHATBOT_DATABASE__URL": database,
            "CHATBOT_SHARED_STATE__REDIS_URL": redis,
            "CHATBOT_VECTOR_STORE__CHROMA_URL": chroma,
            "CHATBOT_MODEL__BACKEND": "ollama",
            "CHATBOT_MODEL__OLLAMA_HOST": ollama.url,
            "CHATBOT_SERVER__TRUSTED_PROXIES": '["127.0.0.1/32"]',
            # The bot's own limits out of the way: what is measured is what the servers bear.
            "CHATBOT_SERVER__CONCURRENT_ANSWERS": "256",
        }
        data = folder / "data"
        import subprocess
        import sys

        def cli(*command: str) -> None:
            subprocess.run(
                [sys.executable, "-m", "chatbot", "--data-dir", str(data), *command],
                env={**_env(), **env},
                cwd=ROOT,
                check=True,
                capture_output=True,
            )

        cli(
            "bots", "create", "kedai", "limits.visitor_messages_per_minute=100000",
            "limits.bot_messages_per_minute=1000000",
        )  # fmt: skip
        cli("ingest", "--bot", "kedai", str(DEMO / "documents"))
        rows = []
        servers: list[Server] = []
        try:
            for count in (1, 2):
                while len(servers) < count:
                    name = f"server-{len(servers) + 1}.out"
                    servers.append(Server(data, env, _env(), log_name=name))
                urls = [s.url for s in servers]
                _measure(urls, 2, 5)  # warm: each server's first answers load what they need
                per_minute, median_s, chats = _measure(urls, args.visitors, args.seconds)
                peak = max(_peak_mb(s.proc.pid) for s in servers)
                rows.append(
                    [str(count), str(args.visitors), str(chats), per_minute, median_s, peak]
                )
                print(f"{count} server(s): {per_minute:.0f} chats a minute", flush=True)
        finally:
            for server in servers:
                server.stop()
    base = rows[0][3]
    print()
    print(
        table(
            [
                "servers",
                "visitors",
                "chats",
                "chats a minute",
                "median s a chat",
                "vs one",
                "peak MB a server",
            ],
            [
                [
                    *r[:3],
                    f"{r[3]:.0f}",
                    f"{r[4]:.2f}",
                    f"{r[3] / base:.2f}×" if base else "-",
                    f"{r[5]:.0f}",
                ]
                for r in rows
            ],
        )
    )
    print(
        f"\nmodel: the Ollama stub at {PAUSE_S * 1000:.0f} ms a 6-character chunk;"
        f" {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
