"""A PostgreSQL server of the tests' own, from Debian's postgresql package (installed by
`make test`): a fresh cluster in a temporary folder, on a free loopback port, started with
`pg_ctl` and removed afterwards. As root (CI), it runs as the `postgres` user, since PostgreSQL
refuses to run as root."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers import free_port


def _bin(name: str) -> Path:
    """A PostgreSQL program: Debian keeps them under /usr/lib/postgresql/<version>/bin."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed: `make test` installs Debian's postgresql package"
        )
    return found[-1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running server; yields the SQLAlchemy URL of an empty database `chatbot` on it. Its
    folder is made under /tmp, not pytest's (whose parents only root may enter)."""
    folder = Path(tempfile.mkdtemp(prefix="chatbot-postgres-"))
    data = folder / "cluster"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [*as_user, str(_bin("initdb")), "-D", str(data), "-U", "chatbot", "--auth=trust",
         "-E", "UTF8", "--locale=C.UTF-8"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, str(_bin("pg_ctl")), "-D", str(data), "-o", options, "-w", "-l",
         str(folder / "server.log"), "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        subprocess.run(
            [str(_bin("createdb")), "-h", "127.0.0.1", "-p", str(port), "-U", "chatbot", "chatbot"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://chatbot@127.0.0.1:{port}/chatbot"
    finally:
        subprocess.run(
            [*as_user, str(_bin("pg_ctl")), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def head_revision() -> str:
    """The newest migration: what a database the application opened is at."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from chatbot.store.database import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head
