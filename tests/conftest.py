"""Shared fixtures: the real corpus, a CLI run as a real subprocess, and the network guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CHATBOT_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
NETGUARD = Path(__file__).parent / "netguard"

# In this process too: a library that phones home fails the test that triggered it.
sys.path.insert(0, str(NETGUARD))
import sitecustomize  # noqa: E402,F401

sys.path.remove(str(NETGUARD))


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def netlog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("net") / "outbound.log"


@pytest.fixture(scope="session")
def cli_env(netlog: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETGUARD), str(ROOT)]))
    env["CHATBOT_TEST_NETLOG"] = str(netlog)
    # No proxy or hub variables may make a difference: the product must be offline by itself.
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="session")
def run_cli(cli_env: dict[str, str]):
    """Run `chatbot ARGS` as a user would, in a fresh process; returns code, stdout, stderr."""

    def run(
        *args: str,
        data_dir: Path,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 600,
    ) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "chatbot", "--data-dir", str(data_dir), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**cli_env, **(env or {})},
            timeout=timeout,
            cwd=ROOT,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture(scope="session")
def search_hits(run_cli):  # type: ignore[no-untyped-def]
    """The hits `chatbot search QUERY --json` prints, as a list of dicts."""

    def search(
        query: str,
        data_dir: Path,
        k: int = 5,
        bot: str = "default",
        env: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        result = run_cli(
            "search", "--bot", bot, query, "--json", "--k", str(k), data_dir=data_dir, env=env
        )
        assert result.code == 0, result.err
        return result.json_lines()[0]["hits"]  # type: ignore[return-value]

    return search


@pytest.fixture(autouse=True, scope="session")
def _no_outbound_connections(netlog: Path) -> Iterator[None]:
    yield
    if netlog.exists() and netlog.read_text().strip():
        pytest.fail(f"outbound connections were attempted:\n{netlog.read_text()}")


DEMO = ROOT / "chatbot" / "demo"


@pytest.fixture(scope="session")
def demo_shop(tmp_path_factory: pytest.TempPathFactory, run_cli) -> Path:  # type: ignore[no-untyped-def]
    """A data directory with the demo shop ingested as bot `demo-shop`, its profile configured."""
    import yaml

    data = tmp_path_factory.mktemp("demo-shop")
    profile = yaml.safe_load((DEMO / "bot.yaml").read_text(encoding="utf-8"))
    (data / "config.yaml").write_text(
        yaml.safe_dump({"bots": {"demo-shop": profile}}, allow_unicode=True), encoding="utf-8"
    )
    result = run_cli("ingest", "--bot", "demo-shop", str(DEMO / "documents"), data_dir=data)
    assert result.code == 0, result.err
    return data


def corpus(relative: str) -> Path:
    path = CORPUS / relative
    if not path.exists():
        pytest.fail(f"shared corpus not found at {CORPUS}; set CHATBOT_SHARED")
    return path


@pytest.fixture(scope="session")
def embed_shop(tmp_path_factory: pytest.TempPathFactory, run_cli) -> Path:  # type: ignore[no-untyped-def]
    """A data directory with two bots made as staff would, with `chatbot bots create`:
    `shop` (the demo shop's documents and profile) and `kiosk` (its FAQ only, for limit tests)."""
    import yaml

    data = tmp_path_factory.mktemp("embed-shop")
    profile = yaml.safe_load((DEMO / "bot.yaml").read_text(encoding="utf-8"))
    pairs = [
        f"{key}={json.dumps(value) if isinstance(value, list) else value}"
        for key, value in profile.items()
    ]
    for bot, source in (("shop", DEMO / "documents"), ("kiosk", DEMO / "documents" / "faq.csv")):
        created = run_cli("bots", "create", bot, *pairs, "colour=#aa3300", data_dir=data)
        assert created.code == 0, created.err
        ingested = run_cli("ingest", "--bot", bot, str(source), data_dir=data)
        assert ingested.code == 0, ingested.err
    return data


@pytest.fixture(scope="session")
def ollama_stub() -> Iterator[Any]:
    """A loopback server speaking Ollama's API, for bots that choose an Ollama model."""
    from tests.ollama_stub import OllamaStub

    with OllamaStub() as stub:
        yield stub


@pytest.fixture(scope="session")
def embed_server(embed_shop: Path, cli_env: dict[str, str], ollama_stub: Any) -> Iterator[Any]:
    """`chatbot serve` of the two bots on the embedded model, shared by the embed tests. It
    trusts X-Forwarded-For from loopback, as it would behind a reverse proxy, so that a test can
    speak as visitors of its own; a browser's requests carry none and count as 127.0.0.1. Its
    Ollama server is the stub, for bots that choose an Ollama model of their own."""
    from tests.servers import Server

    env = {**EMBED_SERVER_ENV, "CHATBOT_MODEL__OLLAMA_HOST": ollama_stub.url}
    server = Server(embed_shop, env, cli_env)
    yield server
    server.stop()


EMBED_SERVER_ENV = {
    "CHATBOT_MODEL__BACKEND": "llamacpp",
    "CHATBOT_SERVER__TRUSTED_PROXIES": '["127.0.0.1/32"]',
}


CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"  # screenshots, for a person to look at


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium, driven by Playwright (its own browser download is not used)."""
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is not installed: `make test` installs Debian's chromium package")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def shop_documents() -> Path:
    return DEMO / "documents"


@pytest.fixture(scope="session")
def shop_knowledge(tmp_path_factory: pytest.TempPathFactory, shop_documents: Path) -> Iterator[Any]:
    """The demo shop's knowledge base in this process, on a temporary Chroma (the fast tier)."""
    from knowledge.base import KnowledgeBase
    from knowledge.embeddings import SentenceEmbedder
    from knowledge.ingest import IngestLimits, ingest_paths
    from knowledge.vectors import open_chroma

    data = tmp_path_factory.mktemp("shop-knowledge")
    (data / "kb").mkdir()
    kb = KnowledgeBase(
        "demo-shop", data / "kb", open_chroma(path=str(data / "chroma")), SentenceEmbedder()
    )
    report = ingest_paths(kb, [shop_documents], IngestLimits())
    assert not report.rejected, report.rejected
    yield kb
    kb.close()
