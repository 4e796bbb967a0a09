"""Settings: defaults, a YAML file, environment variables and flags, in that order of strength."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CHATBOT_"):
            monkeypatch.delenv(name)


def test_defaults_need_no_file(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.data_dir == tmp_path
    assert settings.embedding.model == "all-MiniLM-L6-v2"
    assert settings.ingest.max_file_mb == 50
    assert settings.vector_store.chroma_url is None


def test_environment_beats_the_yaml_file_and_flags_beat_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("retrieval:\n  k: 7\n  candidates: 30\ndata_dir: /from/yaml\n")
    monkeypatch.setenv("CHATBOT_RETRIEVAL__K", "9")
    monkeypatch.setenv("CHATBOT_DATA_DIR", "/from/env")
    settings = load_settings(config)
    assert (settings.retrieval.k, settings.retrieval.candidates) == (9, 30)
    assert settings.data_dir == Path("/from/env")
    assert load_settings(config, data_dir=tmp_path).data_dir == tmp_path


def test_a_config_yaml_in_the_data_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("ingest:\n  max_pages: 12\n")
    assert load_settings(data_dir=tmp_path).ingest.max_pages == 12


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("retrieval:\n  k: 0\n", "setting retrieval.k: Input should be greater than or equal to 1"),
        ("retrieval: [1, 2\n", "is not valid YAML"),
        ("- just\n- a list\n", "must hold a mapping of settings"),
        ("retreival:\n  k: 3\n", "setting retreival: Extra inputs are not permitted"),
    ],
)
def test_a_bad_config_file_is_a_one_line_error_naming_the_problem(
    tmp_path: Path, content: str, message: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(content)
    with pytest.raises(SettingsError, match=message) as caught:
        load_settings(config)
    assert "\n" not in str(caught.value).split(" (", 1)[0]


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_the_configuration_reference_is_written_from_the_settings_themselves() -> None:
    from chatbot.config_reference import render

    reference = Path(__file__).parents[1] / "docs" / "configuration.md"
    assert reference.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is out of date: run"
        " `.venv/bin/python -m chatbot.config_reference > docs/configuration.md`"
    )


# In one process, no server or browser: part of the fast tier.
pytestmark = pytest.mark.contract
