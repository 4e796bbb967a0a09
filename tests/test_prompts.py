"""Prompts are files with declared variables, rendered strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.answering.prompts import DEFAULT_PROMPTS_DIR, ChatPrompt, PromptError, PromptSet


def test_the_shipped_prompts_load_with_names_and_versions() -> None:
    prompts = PromptSet.load()
    assert prompts.answer.label == "answer@1"
    assert prompts.rewrite.label == "rewrite@1"
    assert prompts.translate.label == "translate@1"
    for language in ("en", "ms", "zh"):
        assert prompts.messages.get(language, "no_answer", contact="04-261 8833").endswith(
            "04-261 8833"
        )


def test_rendering_without_a_declared_variable_is_an_error() -> None:
    prompt = ChatPrompt.load(DEFAULT_PROMPTS_DIR / "answer.yaml")
    with pytest.raises(PromptError, match="question"):
        prompt.render(business="x", persona="", language="English", context="[1] y")


def test_a_prompt_using_an_undeclared_variable_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "answer.yaml"
    path.write_text(
        "name: answer\nversion: 2\nvariables: [question]\nsystem: Hi ${shop}\nuser: ${question}\n"
    )
    with pytest.raises(PromptError, match="undeclared variables \\['shop'\\]"):
        ChatPrompt.load(path)


def test_an_own_prompts_folder_from_before_translate_yaml_still_loads(tmp_path: Path) -> None:
    for name in ("answer.yaml", "rewrite.yaml", "messages.yaml"):
        (tmp_path / name).write_text((DEFAULT_PROMPTS_DIR / name).read_text(encoding="utf-8"))
    (tmp_path / "answer.yaml").write_text(
        (tmp_path / "answer.yaml").read_text().replace("version: 1", "version: 7")
    )
    prompts = PromptSet.load(tmp_path)
    assert prompts.answer.label == "answer@7"  # the folder's own
    assert prompts.translate.label == "translate@1"  # the shipped one


# In one process, no server or browser: part of the fast tier.
pytestmark = pytest.mark.contract
