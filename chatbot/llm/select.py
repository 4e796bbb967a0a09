"""Which chat model answers: the configured backend, or in `auto` the best one available.

Every model built here is a LangChain `BaseChatModel` given the server's callbacks (the
generation watch behind /readyz)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel

from chatbot.llm.base import ModelUnavailable
from chatbot.settings import ModelSettings

log = logging.getLogger(__name__)

Callbacks = Sequence[BaseCallbackHandler]


def ollama_model(
    cfg: ModelSettings, model: str | None = None, callbacks: Callbacks = ()
) -> BaseChatModel:
    """The deployment's Ollama model, or a bot's own `model` on the same servers; on several
    (`model.ollama_hosts`), one model that spreads answers across them."""
    from chatbot.llm.ollama import OllamaChatModel

    hosts = cfg.ollama_servers()
    if len(hosts) > 1:
        from chatbot.llm.ollama_pool import OllamaPool

        return OllamaPool(
            hosts=hosts,
            model=model or cfg.ollama_model,
            retry_after_s=cfg.ollama_retry_after_s,
            max_context_tokens=cfg.ollama_max_context_tokens,
            timeout_s=cfg.ollama_timeout_s,
            temperature=cfg.temperature,
            callbacks=list(callbacks),
        )
    return OllamaChatModel.for_model(
        hosts[0],
        model or cfg.ollama_model,
        max_context_tokens=cfg.ollama_max_context_tokens,
        timeout_s=cfg.ollama_timeout_s,
        temperature=cfg.temperature,
        callbacks=list(callbacks),
    )


def embedded_model(
    cfg: ModelSettings, wait_s: float, callbacks: Callbacks = (), *, background: bool = False
) -> BaseChatModel:
    """The embedded llama.cpp model; `wait_s`: the longest a request waits for it while it
    answers others; `background`: it waits while customers' answers are made (evaluations)."""
    from chatbot.llm.llamacpp import LlamaCppChatModel, packaged_gguf

    path = cfg.gguf_path or packaged_gguf()
    if not path.is_file():
        raise ModelUnavailable(f"no GGUF model file at {path}")
    return LlamaCppChatModel(
        model_path=str(path),
        n_ctx=cfg.llamacpp_context_tokens,
        n_threads=cfg.threads,
        temperature=cfg.temperature,
        wait_s=wait_s,
        background=background,
        callbacks=list(callbacks),
    )


def openai_model(cfg: ModelSettings, callbacks: Callbacks = ()) -> BaseChatModel:
    """The model of an OpenAI-compatible server on the premises."""
    from chatbot.llm.openai_compatible import OpenAICompatibleModel

    if not cfg.openai_base_url or not cfg.openai_model:
        raise ModelUnavailable(
            "model.backend = openai needs model.openai_base_url and model.openai_model"
            " (e.g. http://127.0.0.1:8080/v1 and the name the server serves)"
        )
    return OpenAICompatibleModel(
        base_url=cfg.openai_base_url,
        model=cfg.openai_model,
        # The client insists on a key; local servers mostly want none and ignore this one.
        api_key=cfg.openai_api_key or "not-needed",
        temperature=cfg.temperature,
        timeout=cfg.ollama_timeout_s,
        max_retries=0,  # the chain falls back at once rather than keep a customer waiting
        context_tokens=cfg.openai_context_tokens,
        writes_from_sources=cfg.openai_writes_from_sources,
        callbacks=list(callbacks),
    )


def ollama_models(cfg: ModelSettings) -> list[str]:
    """The models the (first) Ollama server has pulled; empty when it does not answer."""
    import httpx

    try:
        reply = httpx.get(f"{cfg.ollama_servers()[0]}/api/tags", timeout=2)
        reply.raise_for_status()
        return sorted(m["name"] for m in reply.json().get("models", []))
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return []


def choose_model(
    cfg: ModelSettings, wait_s: float, callbacks: Callbacks = ()
) -> tuple[BaseChatModel, str]:
    """The chat model and, for the start-up log, why it was chosen.

    An explicit `ollama` whose model is not pulled is an error (with the pull command); one whose
    server is down is not: customers get an "offline" message until it comes back.
    """
    from chatbot.llm.base import check

    match cfg.backend:
        case "llamacpp":
            model = embedded_model(cfg, wait_s, callbacks)
            return model, "configured: model.backend = llamacpp"
        case "openai":
            model = openai_model(cfg, callbacks)
            try:
                check(model)
            except ModelUnavailable as exc:
                log.warning("%s; customers are told the assistant is offline until it is up", exc)
            return model, f"configured: model.backend = openai at {cfg.openai_base_url}"
        case "ollama":
            model = ollama_model(cfg, callbacks=callbacks)
            try:
                check(model)
            except ModelUnavailable as exc:
                if "ollama pull" in str(exc):
                    raise
                log.warning("%s; customers are told the assistant is offline until it is up", exc)
            return model, "configured: model.backend = ollama"
        case _:
            model = ollama_model(cfg, callbacks=callbacks)
            try:
                check(model)
            except ModelUnavailable as exc:
                why = f"auto: Ollama not used ({exc}); using the embedded model"
                return embedded_model(cfg, wait_s, callbacks), why
            where = ", ".join(cfg.ollama_servers())
            return model, f"auto: Ollama at {where} has {cfg.ollama_model}"
