"""The bots of a deployment and their profiles, editable while the server runs.

A bot's profile (title, colour, greeting, allowed sites, limits...) is one row of the application
database, the one place every command, server and the console read and edit. The `bots:` entries
of the settings file, and the demo's bot.yaml, are imported into it when the bot has no row yet;
from then on the row is what counts. Its knowledge base is a folder under `<data dir>/bots/`.
Profiles are data, not settings: each request reads the current one, so a new allowed site or
greeting applies to the next message without a restart.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, delete, insert, select, update

from chatbot.settings import BotProfile, SettingsError
from chatbot.store.schema import bots
from knowledge.base import check_bot_name
from knowledge.errors import KnowledgeError
from knowledge.layout import bots_folder

# Fields a list can be edited in by `name+=value` / `name-=value`.
_LIST_FIELDS = {
    "suggestions",
    "allowed_origins",
    "languages",
    "business_hours.closed_on",
    "handoff.email_to",
}


class UnknownBot(KnowledgeError):
    """No bot of that name exists."""


class BotRegistry:
    def __init__(self, engine: Engine, data_dir: Path, configured: dict[str, BotProfile]) -> None:
        self._engine = engine
        self._folder = bots_folder(data_dir)
        self._configured = configured
        for name, profile in configured.items():
            self.import_profile(name, profile)

    def import_profile(self, name: str, profile: BotProfile) -> bool:
        """Store `profile` as the bot's if it has none stored yet; whether it was stored."""
        check_bot_name(name)
        if self._stored(name) is not None:
            return False
        self._insert(name, profile)
        return True

    def _insert(self, name: str, profile: BotProfile) -> None:
        now = time.time()
        with self._engine.begin() as db:
            db.execute(
                insert(bots).values(
                    name=name, profile=_dump(profile), created_at=now, updated_at=now
                )
            )

    def check_deletable(self, name: str) -> None:
        """Raises, before anything is removed, when the bot cannot be deleted."""
        if not self.exists(name):
            raise UnknownBot(f"there is no bot {name!r}")
        if name in self._configured:
            raise KnowledgeError(
                f"bot {name!r} is defined in the settings file; remove it there first, then"
                " delete it (nothing was deleted)"
            )

    def folder(self, name: str) -> Path:
        return self._folder / check_bot_name(name)

    def names(self) -> list[str]:
        """Every bot: those stored, those with a knowledge base, and those configured."""
        with self._engine.connect() as db:
            stored = set(db.execute(select(bots.c.name)).scalars())
        folders = self._folder.iterdir() if self._folder.is_dir() else iter(())
        return sorted(stored | {p.name for p in folders if p.is_dir()} | set(self._configured))

    def known(self, name: str) -> bool:
        """Whether `name` is a bot; False for names that could not be one (from a URL)."""
        try:
            return self.exists(name)
        except KnowledgeError:
            return False

    def exists(self, name: str) -> bool:
        check_bot_name(name)
        return (
            name in self._configured or self._stored(name) is not None or self.folder(name).is_dir()
        )

    def profile(self, name: str) -> BotProfile:
        """The bot's current profile."""
        stored = self._stored(name)
        if stored is not None:
            return _read_profile(name, stored)
        return self._configured.get(name) or BotProfile()

    def _stored(self, name: str) -> str | None:
        with self._engine.connect() as db:
            found: str | None = db.execute(
                select(bots.c.profile).where(bots.c.name == name)
            ).scalar_one_or_none()
        return found

    def create(self, name: str, changes: dict[str, Any] | None = None) -> BotProfile:
        check_bot_name(name)
        if self._stored(name) is not None:
            raise KnowledgeError(f"bot {name!r} already exists; change it with `chatbot bots set`")
        profile = _apply(self._configured.get(name) or BotProfile(), changes or {})
        self._insert(name, profile)
        self.folder(name).mkdir(parents=True, exist_ok=True)
        return profile

    def update(self, name: str, changes: dict[str, Any]) -> BotProfile:
        if not self.exists(name):
            raise UnknownBot(
                f"there is no bot {name!r}; create it with `chatbot bots create {name}`"
            )
        if self._stored(name) is None:  # configured or ingested only: stored from now on
            self.create(name)
        profile = _apply(self.profile(name), changes)
        with self._engine.begin() as db:
            db.execute(
                update(bots)
                .where(bots.c.name == name)
                .values(profile=_dump(profile), updated_at=time.time())
            )
        return profile

    def delete(self, name: str) -> None:
        """Remove the bot's profile and its knowledge-base folder.

        The caller removes what lives elsewhere (vectors, conversations) first."""
        self.check_deletable(name)
        with self._engine.begin() as db:
            db.execute(delete(bots).where(bots.c.name == name))
        shutil.rmtree(self.folder(name), ignore_errors=True)


def _dump(profile: BotProfile) -> str:
    return json.dumps(profile.model_dump(mode="json"), ensure_ascii=False)


def _read_profile(name: str, stored: str) -> BotProfile:
    try:
        return BotProfile.model_validate(json.loads(stored))
    except (ValueError, ValidationError) as exc:
        raise SettingsError(
            f"the profile of bot {name!r} cannot be read ({_first_error(exc)})"
        ) from exc


def _apply(profile: BotProfile, changes: dict[str, Any]) -> BotProfile:
    data = profile.model_dump(mode="json")
    for key, value in changes.items():
        target, field = data, key
        *parents, field = key.split(".")
        for parent in parents:
            if not isinstance(target.get(parent), dict):
                raise SettingsError(f"{key!r} is not a bot setting")
            target = target[parent]
        # privacy_notice holds only the languages staff wrote: a new one may be added.
        if field not in target and parents != ["privacy_notice"]:
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
    `name-=item` removes one. Numbers and nested fields: `limits.max_turns=20`,
    `privacy_notice.ms=...` (the notice in one language).
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
            items = list(changes.get(key, _dotted(data, key)))
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


def _dotted(data: dict[str, Any], key: str) -> Any:
    """The value at `key` ("business_hours.closed_on") of a dumped profile."""
    for part in key.split("."):
        data = data[part]
    return data


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
