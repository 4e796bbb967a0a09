"""Which chat model answers: the configured backend, or in `auto` the best one available."""

from __future__ import annotations

import logging

from chatbot.llm.base import ChatBackend, ModelUnavailable
from chatbot.settings import ModelSettings

log = logging.getLogger(__name__)


def _ollama(cfg: ModelSettings, model: str | None = None) -> ChatBackend:
    from chatbot.llm.ollama import OllamaBackend

    return OllamaBackend(
        cfg.ollama_host,
        model or cfg.ollama_model,
        max_context_tokens=cfg.ollama_max_context_tokens,
        timeout_s=cfg.ollama_timeout_s,
        temperature=cfg.temperature,
    )


def ollama_backend(cfg: ModelSettings, model: str) -> ChatBackend:
    """A bot's own Ollama model on the deployment's Ollama server."""
    return _ollama(cfg, model)


def embedded_backend(cfg: ModelSettings, wait_s: float) -> ChatBackend:
    return _llamacpp(cfg, wait_s)


def ollama_models(cfg: ModelSettings) -> list[str]:
    """The models the Ollama server has pulled; empty when it does not answer."""
    import httpx

    try:
        reply = httpx.get(f"{cfg.ollama_host.rstrip('/')}/api/tags", timeout=2)
        reply.raise_for_status()
        return sorted(m["name"] for m in reply.json().get("models", []))
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return []


def _llamacpp(cfg: ModelSettings, wait_s: float) -> ChatBackend:
    """`wait_s`: the longest a request waits for the model while it answers others."""
    from chatbot.llm.llamacpp import LlamaCppBackend

    return LlamaCppBackend(
        cfg.gguf_path,
        context_tokens=cfg.llamacpp_context_tokens,
        threads=cfg.threads,
        wait_s=wait_s,
    )


def choose_backend(cfg: ModelSettings, wait_s: float) -> tuple[ChatBackend, str]:
    """The backend and, for the start-up log, why it was chosen.

    An explicit `ollama` whose model is not pulled is an error (with the pull command); one whose
    server is down is not: customers get an "offline" message until it comes back.
    """
    match cfg.backend:
        case "llamacpp":
            return _llamacpp(cfg, wait_s), "configured: model.backend = llamacpp"
        case "ollama":
            backend = _ollama(cfg)
            try:
                backend.check()
            except ModelUnavailable as exc:
                if "ollama pull" in str(exc):
                    raise
                log.warning("%s; customers are told the assistant is offline until it is up", exc)
            return backend, "configured: model.backend = ollama"
        case _:
            backend = _ollama(cfg)
            try:
                backend.check()
            except ModelUnavailable as exc:
                why = f"auto: Ollama not used ({exc}); using the embedded model"
                return _llamacpp(cfg, wait_s), why
            return backend, f"auto: Ollama at {cfg.ollama_host} has {cfg.ollama_model}"
