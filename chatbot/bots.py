"""The bots of a deployment and their profiles, editable while the server runs.

A bot is a folder under `<data dir>/bots/` (its knowledge base lives there too). Its profile is
`bot.json` in that folder when staff have set one (`chatbot bots`, the console of #5); otherwise
the `bots:` entry of the settings file, otherwise the defaults. Profiles are data, not settings:
the server re-reads a profile when its file changes, so a new allowed site or greeting applies to
the next request without a restart.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chatbot.settings import BotProfile, SettingsError
from knowledge.base import check_bot_name
from knowledge.errors import KnowledgeError

PROFILE_FILE = "bot.json"
# Fields a list can be edited in by `name+=value` / `name-=value`.
_LIST_FIELDS = {"suggestions", "allowed_origins"}


class UnknownBot(KnowledgeError):
    """No bot of that name exists."""


class BotRegistry:
    def __init__(self, data_dir: Path, configured: dict[str, BotProfile]) -> None:
        self._folder = data_dir / "bots"
        self._configured = configured
        self._cache: dict[str, tuple[int, BotProfile]] = {}
        self._lock = threading.Lock()

    def folder(self, name: str) -> Path:
        return self._folder / check_bot_name(name)

    def names(self) -> list[str]:
        """Every bot: those with a folder (created, or with documents) and those configured."""
        found = (
            {p.name for p in self._folder.iterdir() if p.is_dir()}
            if self._folder.is_dir()
            else set()
        )
        return sorted(found | set(self._configured))

    def exists(self, name: str) -> bool:
        return name in self._configured or self.folder(name).is_dir()

    def profile(self, name: str) -> BotProfile:
        """The bot's current profile; re-read only when its file has changed."""
        path = self.folder(name) / PROFILE_FILE
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            return self._configured.get(name) or BotProfile()
        with self._lock:
            cached = self._cache.get(name)
            if cached and cached[0] == stamp:
                return cached[1]
        profile = _read_profile(path)
        with self._lock:
            self._cache[name] = (stamp, profile)
        return profile

    def create(self, name: str, changes: dict[str, Any] | None = None) -> BotProfile:
        if self.folder(name).is_dir() and (self.folder(name) / PROFILE_FILE).exists():
            raise KnowledgeError(f"bot {name!r} already exists; change it with `chatbot bots set`")
        base = self._configured.get(name) or BotProfile()
        profile = _apply(base, changes or {})
        self._write(name, profile)
        return profile

    def update(self, name: str, changes: dict[str, Any]) -> BotProfile:
        if not self.exists(name):
            raise UnknownBot(
                f"there is no bot {name!r}; create it with `chatbot bots create {name}`"
            )
        profile = _apply(self.profile(name), changes)
        self._write(name, profile)
        return profile

    def delete(self, name: str) -> None:
        """Remove the bot's folder: its profile and knowledge-base catalog.

        The caller removes what lives elsewhere (vectors, conversations) first."""
        folder = self.folder(name)
        if not folder.is_dir():
            if name in self._configured:
                raise KnowledgeError(
                    f"bot {name!r} is defined in the settings file; remove it there"
                )
            raise UnknownBot(f"there is no bot {name!r}")
        shutil.rmtree(folder)
        with self._lock:
            self._cache.pop(name, None)

    def _write(self, name: str, profile: BotProfile) -> None:
        folder = self.folder(name)
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(profile.model_dump(mode="json"), ensure_ascii=False, indent=2)
        # Written whole then renamed: a server reading it never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".bot-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        os.replace(tmp, folder / PROFILE_FILE)


def _read_profile(path: Path) -> BotProfile:
    try:
        return BotProfile.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise SettingsError(f"bot profile {path} cannot be read ({_first_error(exc)})") from exc


def _apply(profile: BotProfile, changes: dict[str, Any]) -> BotProfile:
    data = profile.model_dump(mode="json")
    for key, value in changes.items():
        target, field = data, key
        *parents, field = key.split(".")
        for parent in parents:
            if not isinstance(target.get(parent), dict):
                raise SettingsError(f"{key!r} is not a bot setting")
            target = target[parent]
        if field not in target:
            raise SettingsError(f"{key!r} is not a bot setting; see `chatbot bots show --json`")
        target[field] = value
    try:
        return BotProfile.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(_first_error(exc)) from exc


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if not isinstance(p, int))
        message = str(first["msg"]).removeprefix("Value error, ")
        return f"{where}: {message}" if where else message
    return str(exc)


def parse_assignments(pairs: list[str], current: BotProfile) -> dict[str, Any]:
    """`name=value` pairs from the command line as profile changes.

    A list takes a JSON array (`suggestions='["a", "b"]'`) or comma-separated items
    (`allowed_origins=https://a.example,https://b.example`); `name+=item` adds one item and
    `name-=item` removes one. Numbers and nested fields: `limits.max_turns=20`.
    """
    changes: dict[str, Any] = {}
    data = current.model_dump(mode="json")
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SettingsError(f"{pair!r} is not name=value")
        op = key[-1] if key[-1] in "+-" else ""
        key = key.rstrip("+-")
        if key in _LIST_FIELDS:
            items = list(changes.get(key, data.get(key, [])))
            if op == "+":
                items.append(value)
            elif op == "-":
                if value not in items:
                    raise SettingsError(f"{value!r} is not in {key}")
                items.remove(value)
            else:
                items = _list_value(value)
            changes[key] = items
        elif op:
            raise SettingsError(f"{key} is not a list: use {key}=value")
        else:
            changes[key] = value
    return changes


def _list_value(value: str) -> list[str]:
    if value.lstrip().startswith("["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"{value!r} is not a JSON list ({exc.msg})") from exc
        if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
            raise SettingsError(f"{value!r} is not a list of texts")
        return parsed
    return [item.strip() for item in value.split(",") if item.strip()]
