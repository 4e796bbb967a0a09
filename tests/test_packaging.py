"""The product as a wheel, outside a checkout: `pip install .` alone must run the demo and answer
(the prompts and the demo shop ship inside the package)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NETGUARD, ROOT
from tests.servers import Server, chat, shown_text

pytestmark = pytest.mark.slow


def test_a_wheel_installed_outside_the_checkout_runs_the_demo_and_answers(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    wheels, site, source = tmp_path / "wheels", tmp_path / "site", tmp_path / "source"
    # Built from a copy: setuptools' build/ folder in the checkout would keep modules since
    # moved or deleted, and a wheel built there could hold them.
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".*", "build", "data", "test-artifacts", "*.egg-info", "__pycache__", "bench"
        ),
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("*.whl")
    installed = subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr
    # The installed copy, not the checkout: the checkout is neither on the path nor the cwd.
    env = {**cli_env, "PYTHONPATH": os.pathsep.join([str(NETGUARD), str(site)])}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import chatbot, prompts; print(chatbot.__file__, prompts.__file__)",
        ],
        env=env,
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert where.returncode == 0, where.stderr
    assert all(path.startswith(str(site)) for path in where.stdout.split()), where.stdout

    data = tmp_path / "data"
    data.mkdir()
    server = Server(data, {"CHATBOT_MODEL__BACKEND": "llamacpp"}, env, verb="demo", cwd=elsewhere)
    try:
        response, events = chat(server, "How much does an iPhone battery replacement cost?")
        assert response.status_code == 200
        assert "iPhone battery: RM150" in shown_text(events)
    finally:
        server.stop()


def _canonical(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_module_the_product_imports_is_a_declared_dependency() -> None:
    # A module that happens to be installed as another package's dependency (pandas came with
    # gradio) goes when that package stops needing it: the product must name what it uses.
    import ast
    import importlib.metadata
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # The product's own extras count (postgresql, redis: a deployment of several servers
    # installs them); the tests' and benchmarks' do not.
    extras = project["optional-dependencies"]
    requirements = [
        *project["dependencies"],
        *(r for name, group in extras.items() if name not in ("dev", "bench") for r in group),
    ]
    declared = {
        _canonical(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0])
        for requirement in requirements
    }
    distributions = importlib.metadata.packages_distributions()
    ours = {"chatbot", "knowledge", "prompts"}
    undeclared = set()
    for package in ours:
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "make_documents.py":  # a maintainer's script, run with the dev extras
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in ours:
                        continue
                    if not {_canonical(d) for d in distributions.get(top, [])} & declared:
                        undeclared.add(f"{path.relative_to(ROOT)}: {top}")
    assert not undeclared, sorted(undeclared)


@pytest.mark.contract
@pytest.mark.parametrize("compose", ["docker-compose.yml", "docker-compose.scale.yml"])
def test_every_setting_the_compose_files_give_is_a_real_one(compose: str) -> None:
    """A misspelt CHATBOT_ variable is ignored by the app without a word: every one the compose
    files set must name a setting, and its value must be one the setting takes."""
    import re

    import yaml

    from chatbot.settings import Settings

    services = yaml.safe_load((ROOT / compose).read_text(encoding="utf-8"))["services"]
    given = {
        key: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))  # ${VAR:-default}: the default
        for service in services.values()
        for key, value in (service.get("environment") or {}).items()
        if key.startswith("CHATBOT_")
    }
    assert given
    for key in given:
        model: Any = Settings
        for part in key.removeprefix("CHATBOT_").lower().split("__"):
            assert part in model.model_fields, f"{compose}: {key} names no setting"
            model = model.model_fields[part].annotation
    nested: dict[str, Any] = {}
    for key, value in given.items():
        *path, last = key.removeprefix("CHATBOT_").lower().split("__")
        place = nested
        for part in path:
            place = place.setdefault(part, {})
        place[last] = yaml.safe_load(value) if value.startswith("[") else value
    Settings(**nested)  # every value accepted
