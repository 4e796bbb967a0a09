"""Candidates for an evaluation: a chat model (the embedded one, any GGUF file, a model of the
Ollama server, one of an OpenAI-compatible server) in an answer mode.

    embedded                 the packaged model (SmolLM2-135M), in the bot's own mode
    /models/qwen2.5-3b.Q4_K_M.gguf@generate   a GGUF file, its answers unchecked
    ollama:qwen2.5:3b        a model of the configured Ollama server
    ollama:*                 every model that server has pulled
    openai:qwen2.5-3b        a model of the configured OpenAI-compatible server
    extract                  no model: the extract alone
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel

from chatbot.llm.base import ModelUnavailable, check
from chatbot.settings import ModelSettings
from knowledge.errors import KnowledgeError

# The longest one question of an evaluation waits for its turn on the embedded model behind
# customers' answers, which always go first; past it the question scores as a fallback.
WAIT_FOR_TURN_S = 600.0

Mode = Literal["auto", "generate", "extract"]
MODES: tuple[Mode, ...] = ("auto", "generate", "extract")


class CandidateError(KnowledgeError):
    """A candidate that cannot be evaluated; the message says which and why."""


@dataclass(frozen=True)
class Candidate:
    label: str  # as the user wrote it (one of `ollama:*` expanded)
    model: BaseChatModel | None
    mode: Mode | None  # None: the bot's own
    details: dict[str, Any] = field(default_factory=dict)  # size, parameters, quantization


def _split_mode(spec: str) -> tuple[str, Mode | None]:
    name, at, mode = spec.rpartition("@")
    if not at:
        return spec, None
    if mode not in MODES:
        raise CandidateError(f"{spec!r}: the mode after @ must be one of {', '.join(MODES)}")
    return name, mode  # type: ignore[return-value]  # checked just above


def _ollama_details(cfg: ModelSettings, tag: str) -> dict[str, Any]:
    """Parameter count and quantization from Ollama's /api/show, size from /api/tags."""
    host = cfg.ollama_host.rstrip("/")
    details: dict[str, Any] = {}
    try:
        shown = httpx.post(f"{host}/api/show", json={"model": tag}, timeout=5)
        if shown.status_code == 200:
            about = shown.json().get("details") or {}
            details["parameters"] = about.get("parameter_size")
            details["quantization"] = about.get("quantization_level")
        tags = httpx.get(f"{host}/api/tags", timeout=5).json().get("models", [])
        size = next((m.get("size") for m in tags if m.get("name") == tag), None)
        if size:
            details["size_mb"] = round(size / 1e6)
    except (httpx.HTTPError, ValueError):
        pass
    return {k: v for k, v in details.items() if v is not None}


def unload(model: BaseChatModel | None) -> None:
    """An in-process model's memory given back (the others hold none of ours)."""
    release = getattr(model, "unload", None)
    if callable(release):
        release()


def build(
    specs: Sequence[str],
    cfg: ModelSettings,
    callbacks: list[BaseCallbackHandler],
    wait_s: float = WAIT_FOR_TURN_S,
) -> list[Candidate]:
    """The candidates, each checked before any question is asked: a model that is not pulled,
    a file that does not load, a server that does not answer stops the run with the reason."""
    from chatbot.llm.select import embedded_model, ollama_model, ollama_models, openai_model

    out: list[Candidate] = []
    for spec in specs:
        name, mode = _split_mode(spec.strip())
        if name == "extract":
            out.append(Candidate(spec, None, "extract"))
            continue
        if name == "ollama:*":
            tags = ollama_models(cfg)
            if not tags:
                raise CandidateError(f"Ollama at {cfg.ollama_host} lists no models (or is down)")
            out += build(
                [f"ollama:{t}" + (f"@{mode}" if mode else "") for t in tags], cfg, callbacks, wait_s
            )
            continue
        details: dict[str, Any] = {}
        if name == "embedded":
            model = embedded_model(
                cfg.model_copy(update={"gguf_path": None}), wait_s, callbacks, background=True
            )
        elif name.endswith(".gguf"):
            path = Path(name).expanduser()
            if not path.is_file():
                raise CandidateError(f"{spec!r}: there is no GGUF file at {path}")
            model = embedded_model(
                cfg.model_copy(update={"gguf_path": path}), wait_s, callbacks, background=True
            )
            details["size_mb"] = round(path.stat().st_size / 1e6)
        elif name.startswith("ollama:"):
            tag = name.removeprefix("ollama:")
            model = ollama_model(cfg, tag, callbacks)
            details = _ollama_details(cfg, getattr(model, "model", tag))
        elif name.startswith("openai:"):
            served = cfg.model_copy(update={"openai_model": name.removeprefix("openai:")})
            model = openai_model(served, callbacks)
        else:
            raise CandidateError(
                f"{spec!r} is not a candidate: use embedded, a .gguf path, ollama:TAG, ollama:*,"
                " openai:NAME or extract, with @auto, @generate or @extract if you like"
            )
        try:
            check(model)
        except ModelUnavailable as exc:
            raise CandidateError(f"{spec}: {exc}") from exc
        except Exception as exc:  # llama.cpp's own error for a file that is not a model
            raise CandidateError(f"{spec}: the model does not load ({exc})") from exc
        if name == "embedded":
            gguf = Path(str(getattr(model, "model_path", "")))
            details["size_mb"] = round(gguf.stat().st_size / 1e6) if gguf.is_file() else None
        unload(model)  # loaded again at its first question, so its memory is measured alone
        out.append(Candidate(spec, model, mode, details))
    return out
