"""What a crowd of staff logins costs customers: one `chatbot serve`, a customer's requests
(the bot's profile, as the chat page loads it) timed alone, then while 20 wrong logins arrive at
once, again and again. Each login's scrypt check takes about 0.1 s of a core; run on the event
loop, 20 of them held a customer's request for 2.4 s (#28). The baseline is the same requests
alone, in the same run.

    python -m bench.logins                 # 200 customer requests in each configuration
    python -m bench.logins --requests 400
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import ROOT, table

PASSWORD = "a long enough password"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _customer(url: str, count: int) -> list[float]:
    """Seconds each of `count` profile requests took, one after another."""
    took = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(count):
            started = time.perf_counter()
            client.get("/api/bots/kedai/profile").raise_for_status()
            took.append(time.perf_counter() - started)
    return took


def _logins(url: str, stop: threading.Event, attempts: list[int]) -> None:
    """20 staff logins at once, each from an address of its own, with wrong passwords, in
    waves until `stop` (every one refused: 401, or 429 once an address is held)."""

    def one(n: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            while not stop.is_set():
                client.post(
                    "/admin/login",
                    data={"username": f"staff{n}", "password": "wrong", "next": "/admin/"},
                    headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
                )
                attempts[n] += 1

    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in range(20)]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.servers import Server

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        cli = [sys.executable, "-m", "chatbot", "--data-dir", str(data)]
        subprocess.run([*cli, "bots", "create", "kedai"], check=True, env=_env(), cwd=ROOT)
        for n in range(20):
            subprocess.run(
                [*cli, "admin", "create", f"staff{n}", "--role", "editor", "--password-stdin"],
                input=PASSWORD + "\n",
                text=True,
                check=True,
                env=_env(),
                cwd=ROOT,
            )
        # Loopback is the proxy, so each login counts from the address it names; the bot's
        # limits are per visitor, and the customer here is one visitor asking often.
        env = {
            "CHATBOT_SERVER__TRUSTED_PROXIES": '["127.0.0.1/32"]',
            "CHATBOT_ADMIN__FAILED_LOGINS_ALLOWED": "1000000",
        }
        server = Server(data, env, _env())
        try:
            _customer(server.url, 20)  # warm
            alone = _customer(server.url, args.requests)
            stop, attempts = threading.Event(), [0] * 20
            crowd = threading.Thread(target=_logins, args=(server.url, stop, attempts))
            crowd.start()
            while sum(attempts) < 20:  # the first wave is in
                time.sleep(0.05)
            during = _customer(server.url, args.requests)
            stop.set()
            crowd.join(120)
        finally:
            server.stop()

    def row(name: str, took: list[float]) -> list[str]:
        cuts = statistics.quantiles(took, n=20)
        return [
            name,
            f"{statistics.median(took) * 1000:.0f}",
            f"{cuts[18] * 1000:.0f}",
            f"{max(took) * 1000:.0f}",
        ]

    print(
        f"customer's profile requests, {args.requests} each; {sum(attempts)} logins refused"
        " during the second"
    )
    print(
        table(
            ["", "median ms", "p95 ms", "max ms"],
            [row("alone (baseline)", alone), row("during 20 logins at once", during)],
        )
    )


if __name__ == "__main__":
    main()
