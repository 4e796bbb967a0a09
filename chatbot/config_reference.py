"""docs/configuration.md, written from the settings' own fields: their types, defaults and
descriptions, so the reference cannot drift from the code (a test compares the two).

    python -m chatbot.config_reference > docs/configuration.md
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from chatbot.settings import BotHandoff, BotLimits, BotProfile, BusinessHours, Settings

_HEAD = """# Configuration reference

<!-- Written by `python -m chatbot.config_reference > docs/configuration.md`; do not edit. -->

Settings are read once at start-up, from (first wins) command-line flags, environment
variables, then a YAML file: `--config FILE`, `$CHATBOT_CONFIG`, or `config.yaml` in the data
directory. Environment variables are `CHATBOT_` and the path in capitals, joined by `__`:
`model.backend` is `CHATBOT_MODEL__BACKEND`. An unknown or invalid setting stops start-up with
its name and the reason.

```yaml
# data/config.yaml
model:
  backend: ollama
  ollama_model: qwen2.5:3b
bots:
  kedai:
    business: Kedai Runcit Ah Seng
    allowed_origins: [https://kedai.example]
```
"""

_BOTS = """
## Bot profiles (`bots.NAME`)

Each bot's profile: set in the console (*Bot settings*), with `chatbot bots set NAME
key=value`, or under `bots:` in the YAML file (imported once, when the bot has no stored
profile yet; later changes are the console's).
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "none"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "shown_default" in extra:
        return str(extra["shown_default"])
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.is_required():
        return "(required)"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return ""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return f"`{text}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _rows(model: type[BaseModel], prefix: str, skip: Collection[str] = ()) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            continue  # its own section
        key = f"{prefix}{name}"
        rows.append(
            f"| `{key}` | {_type_name(annotation)} | {_cell(_default(field))} |"
            f" {_cell(field.description or '')} |"
        )
    return rows


def _table(
    title: str, model: type[BaseModel], prefix: str, note: str = "", skip: set[str] | None = None
) -> list[str]:
    lines = ["", f"## {title}", ""]
    if note:
        lines += [note, ""]
    lines += ["| setting | type | default | what it does |", "|---|---|---|---|"]
    return lines + _rows(model, prefix, skip or set())


def render() -> str:
    lines = [_HEAD.rstrip()]
    lines += _table("Top level", Settings, "", skip={"bots"})  # bots: a section of its own
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            doc = (section.__doc__ or "").strip()
            doc = "" if doc.startswith(("Usage docs", "A base class")) else " ".join(doc.split())
            lines += _table(f"`{name}`", section, f"{name}.", doc)
    lines.append(_BOTS.rstrip())
    lines += ["", "| setting | type | default | what it does |", "|---|---|---|---|"]
    lines += _rows(BotProfile, "")
    lines += _table("Bot limits (`bots.NAME.limits`)", BotLimits, "limits.")
    lines += _table(
        "Handoff to a person (`bots.NAME.handoff`)",
        BotHandoff,
        "handoff.",
        BotHandoff.__doc__ or "",
    )
    lines += _table(
        "Business hours (`bots.NAME.business_hours`)",
        BusinessHours,
        "business_hours.",
        " ".join((BusinessHours.__doc__ or "").split()),
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
