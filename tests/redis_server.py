"""A Redis server of the tests' own, from Debian's redis-server package (installed by
`make test`): on a free loopback port, nothing saved to disk, stopped afterwards."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.servers import free_port


@contextmanager
def redis_server() -> Iterator[str]:
    """A running server; yields its URL."""
    program = shutil.which("redis-server")
    if program is None:
        raise RuntimeError("Redis is not installed: `make test` installs Debian's redis-server")
    folder = tempfile.mkdtemp(prefix="chatbot-redis-")
    port = free_port()
    server = subprocess.Popen(
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", folder],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 30
    while True:  # ready when it answers, not after a pause
        try:
            if client.ping():
                break
        except redis.ConnectionError:
            pass
        assert server.poll() is None, "redis-server exited"
        assert time.monotonic() < deadline, "redis-server did not become ready"
        time.sleep(0.02)  # polling for start-up, not timing anything
    try:
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
