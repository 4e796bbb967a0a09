"""Prompt files: declared variables, strict rendering, a name and version for every answer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import yaml

from knowledge.errors import KnowledgeError
from prompts import FOLDER

# The `prompts` package: the top-level prompts/ folder of a checkout, installed with the wheel.
DEFAULT_PROMPTS_DIR = FOLDER
MESSAGE_LANGUAGES = ("en", "ms", "zh")
_MESSAGE_KEYS = ("no_answer", "quote", "offline", "empty", "too_long", "contact_prefix", "sources")
# Keys added since: a deployment's own messages.yaml may lack them, the shipped text stands in.
_ADDED_KEYS = (
    "not_ready",
    "greeting_reply",
    "thanks_reply",
    "goodbye_reply",
    "bot_reply",
    "person_reply",
    "person_unavailable",
    "handoff_asked",
    "handoff_missed",
    "handoff_later",
    "handoff_closed",
    "handoff_waiting",
    # WhatsApp (chatbot/whatsapp): the notice's buttons (20 characters at most), the line that
    # asks for them, and replies to what the bot cannot read or take.
    "wa_agree_keep",
    "wa_agree_only",
    "wa_agree_ask",
    "wa_cannot_read",
    "wa_too_fast",
    "wa_erased",
    # The rating asked when a customer closes a conversation (docs/OUTCOMES.md): on WhatsApp
    # three buttons (20 characters at most) and the thanks for pressing one.
    "wa_feedback_ask",
    "wa_feedback_good",
    "wa_feedback_ok",
    "wa_feedback_bad",
    "wa_feedback_thanks",
)


class PromptError(KnowledgeError):
    """A prompt file is missing, malformed, or uses a variable it does not declare."""


def _template(text: object, declared: set[str], where: str) -> Template:
    if not isinstance(text, str):
        raise PromptError(f"{where}: expected text")
    template = Template(text)
    if not template.is_valid():
        raise PromptError(f"{where}: a `$` that is not a variable; write `$$` for a dollar sign")
    undeclared = set(template.get_identifiers()) - declared
    if undeclared:
        raise PromptError(f"{where}: undeclared variables {sorted(undeclared)}")
    return template


def _read(path: Path) -> tuple[dict[str, Any], set[str]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PromptError(f"prompt file {path} is missing") from exc
    except yaml.YAMLError as exc:
        raise PromptError(f"prompt file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not {"name", "version", "variables"} <= data.keys():
        raise PromptError(f"prompt file {path} needs name, version and variables")
    return data, set(data["variables"])


def _render(template: Template, declared: set[str], values: dict[str, str]) -> str:
    missing = declared - values.keys()
    if missing:
        raise PromptError(f"prompt rendered without {sorted(missing)}")
    return template.substitute(values)


@dataclass(frozen=True)
class ChatPrompt:
    """A system and a user message."""

    name: str
    version: int
    variables: frozenset[str]
    system: Template
    user: Template

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def load(cls, path: Path) -> ChatPrompt:
        data, declared = _read(path)
        return cls(
            name=str(data["name"]),
            version=int(data["version"]),
            variables=frozenset(declared),
            system=_template(data.get("system"), declared, f"{path}: system"),
            user=_template(data.get("user"), declared, f"{path}: user"),
        )

    def render(self, **values: str) -> tuple[str, str]:
        declared = set(self.variables)
        return _render(self.system, declared, values), _render(self.user, declared, values)


@dataclass(frozen=True)
class Messages:
    """The bot's canned messages, per language."""

    version: int
    by_language: dict[str, dict[str, Template]]

    @classmethod
    def load(cls, path: Path) -> Messages:
        data, declared = _read(path)
        by_language: dict[str, dict[str, Template]] = {}
        for language in MESSAGE_LANGUAGES:
            entries = data.get(language)
            if not isinstance(entries, dict) or set(_MESSAGE_KEYS) - entries.keys():
                raise PromptError(f"{path}: {language} needs {', '.join(_MESSAGE_KEYS)}")
            if set(_ADDED_KEYS) - entries.keys():  # a deployment's own file from before them
                shipped, _ = _read(DEFAULT_PROMPTS_DIR / "messages.yaml")
                entries = {**shipped[language], **entries}
            by_language[language] = {
                key: _template(entries[key], declared, f"{path}: {language}.{key}")
                for key in (*_MESSAGE_KEYS, *_ADDED_KEYS)
            }
        return cls(int(data["version"]), by_language)

    def contact(self, language: str, contact: str) -> str:
        """ "Please contact us: phone 04-261 8833", in `language`; nothing without a contact."""
        return f"{self.get(language, 'contact_prefix')} {contact}" if contact else ""

    def get(self, language: str, key: str, **values: str) -> str:
        table = self.by_language.get(language, self.by_language["en"])
        # safe_substitute: a message may use fewer variables than the file declares.
        given = {"contact": "", "source": "", "when": "", **values}
        return table[key].safe_substitute(given).strip()


def _own_or_shipped(folder: Path, name: str) -> Path:
    own = folder / name
    return own if own.exists() else DEFAULT_PROMPTS_DIR / name


@dataclass(frozen=True)
class PromptSet:
    answer: ChatPrompt
    rewrite: ChatPrompt
    translate: ChatPrompt
    messages: Messages

    @classmethod
    def load(cls, folder: Path | None = None) -> PromptSet:
        folder = folder or DEFAULT_PROMPTS_DIR
        return cls(
            answer=ChatPrompt.load(folder / "answer.yaml"),
            rewrite=ChatPrompt.load(folder / "rewrite.yaml"),
            # Added after the others: a deployment's own folder from before it has none, and
            # gets the shipped one rather than a failed start.
            translate=ChatPrompt.load(_own_or_shipped(folder, "translate.yaml")),
            messages=Messages.load(folder / "messages.yaml"),
        )
