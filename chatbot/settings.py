"""One typed settings tree, read once at start-up.

Sources, later ones winning: defaults here, a YAML file (`--config`, `CHATBOT_CONFIG`, or
`<data dir>/config.yaml`), then `CHATBOT_*` environment variables, nested with `__`
(`CHATBOT_RETRIEVAL__K=8`), then command-line flags such as `--data-dir`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from chatbot.bots.origins import normalise_origin
from knowledge.crawl.site import CrawlLimits
from knowledge.embeddings import DEFAULT_MAX_TOKENS, Precision, Runtime
from knowledge.errors import KnowledgeError
from knowledge.ingest import IngestLimits
from knowledge.parse_worker import ParseLimits
from knowledge.relevance import RelevanceSettings
from knowledge.retrieval import FusionSettings
from knowledge.splitting import SplitSettings

# The core's own defaults, so that each default lives in one place.
_FUSION, _SPLIT, _PARSE, _CRAWL = FusionSettings(), SplitSettings(), ParseLimits(), CrawlLimits()
_INGEST = IngestLimits()
_RELEVANCE = RelevanceSettings()

# The YAML file of the settings being loaded; a context variable because pydantic-settings
# asks the class, not the instance, for its sources.
_YAML_FILE: ContextVar[Path | None] = ContextVar("chatbot_yaml_file", default=None)


class EmbeddingSettings(BaseModel):
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="A packaged model name (all-MiniLM-L6-v2) or the local path of any "
        "sentence-transformers model. Changing it requires `chatbot reindex`.",
    )
    batch_size: int = Field(16, ge=1, le=1024, description="Passages embedded per batch.")
    precision: Precision = Field(
        "auto",
        description="Arithmetic of the embedding model: `auto` uses bfloat16 where the CPU "
        "has it natively (about 1.7x faster, same rankings) and it gives float32's vectors on a "
        "probe when the model loads, else float32.",
    )
    runtime: Runtime = Field(
        "auto",
        description="What runs the embedding model: `onnx` (ONNX Runtime: a process starts "
        "in 0.2 s instead of 6.5 s and needs 400 MB less; the model is exported once into "
        "`cache_dir`), `torch` (sentence-transformers), or `auto`: ONNX Runtime, except for "
        "a document of a million characters or more on a CPU with native bfloat16, where "
        "torch is faster by more than it costs to load.",
    )
    max_tokens: int | None = Field(
        DEFAULT_MAX_TOKENS,
        ge=16,
        le=8192,
        description="Tokens of a passage the embedding model reads; the rest of it is still "
        "found by keyword search. 160: a fifth less work on long documents than "
        "all-MiniLM-L6-v2's configured 256, with the same hit@1 on the eval sets "
        "(docs/KNOWLEDGE.md). Unset (null): the model's own configured length. After changing "
        "it, `chatbot reindex` makes older passages' vectors the same way.",
    )
    cache_dir: Path | None = Field(
        None,
        description="Where the model exported for ONNX Runtime is kept (unset: "
        "$XDG_CACHE_HOME/chatbot, else ~/.cache/chatbot).",
    )


class VectorStoreSettings(BaseModel):
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8000. "
        "Unset: Chroma runs embedded, on disk in the data directory.",
    )


class IngestSettings(BaseModel):
    max_file_mb: float = Field(50.0, gt=0, description="Larger files are rejected.")
    max_pages: int = Field(
        _PARSE.max_pages, ge=1, description="Documents with more pages are rejected."
    )
    max_passages: int = Field(
        _INGEST.max_passages,
        ge=1,
        description="A document that makes more passages is rejected (a huge one-line CSV made"
        " 41,899), nothing of it kept.",
    )
    max_embed_s: float = Field(
        _INGEST.max_embed_s,
        gt=0,
        description="A document whose passages take longer to embed is rejected, nothing of it"
        " kept.",
    )
    parse_timeout_s: float = Field(
        _PARSE.timeout_s,
        gt=0,
        description="A file whose reading takes longer is stopped and rejected.",
    )
    parse_memory_mb: int = Field(
        _PARSE.memory_mb, ge=256, description="Memory cap of the process that reads files."
    )
    ocr: bool = Field(
        True,
        description="Read scanned PDFs and photos (PNG, JPEG, WebP) with Tesseract, in the"
        " languages the bot answers in, when Tesseract is installed; off: they are turned away.",
    )
    chunk_target_tokens: int = Field(
        _SPLIT.target_tokens,
        ge=32,
        description="Passages are packed up to about this many model tokens.",
    )
    chunk_max_tokens: int = Field(
        _SPLIT.max_tokens,
        ge=64,
        description="Hard cap per passage; the embedding model reads 256 tokens.",
    )


class CrawlSettings(BaseModel):
    """Reading a business's website (`chatbot ingest https://...`, the console's Add a website)."""

    allow_private_addresses: bool = Field(
        False,
        description="Allow sites on loopback and private addresses (an intranet site). Off, only"
        " public addresses are read, checked on every resolved address and after every redirect;"
        " link-local addresses (cloud metadata) are never read.",
    )
    max_pages: int = Field(_CRAWL.max_pages, ge=1, description="Pages read per site, at most.")
    max_depth: int = Field(
        _CRAWL.max_depth,
        ge=0,
        description="Links followed from the first page, at most (no sitemap).",
    )
    max_page_mb: float = Field(
        5.0,
        gt=0,
        description="Larger pages are not read (counted decoded: a compressed page is stopped"
        " at the first byte past it). A sitemap may have 50 MB, as its protocol allows.",
    )
    max_total_s: float = Field(
        _CRAWL.max_total_s,
        gt=0,
        description="A read of a site stops after this long, in the middle of a page or a wait.",
    )
    pace_s: float = Field(
        _CRAWL.pace_s,
        ge=0,
        description="Seconds between two requests to the site (more if its robots.txt asks,"
        " up to 10 s).",
    )
    timeout_s: float = Field(
        _CRAWL.timeout_s,
        gt=0,
        description="A page that has not arrived whole after this long is given up.",
    )
    every_hours: float = Field(
        24.0,
        ge=0,
        description="A website added is read again this often by the running server; 0: only"
        " when asked.",
    )
    schedule_check_s: float = Field(
        600.0, ge=1, description="How often the running server looks for websites due a read."
    )


class RetrievalSettings(BaseModel):
    k: int = Field(5, ge=1, le=100, description="Passages returned per query.")
    candidates: int = Field(
        _FUSION.candidates, ge=1, description="Candidates each retriever contributes."
    )
    rrf_k: int = Field(_FUSION.rrf_k, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(
        _FUSION.dense_weight, ge=0, description="Weight of embedding search for English queries."
    )
    other_dense_weight: float = Field(
        _FUSION.other_dense_weight,
        ge=0,
        description="Weight of embedding search for Malay and other non-English queries.",
    )
    keyword_weight: float = Field(
        _FUSION.keyword_weight, ge=0, description="Weight of keyword (BM25) search."
    )
    cjk_dense_weight: float = Field(
        _FUSION.cjk_dense_weight,
        ge=0,
        description="Weight of embedding search for Chinese/Japanese/Korean queries.",
    )
    faq_question_factor: float = Field(
        _FUSION.faq_question_factor,
        ge=0,
        description="Weight of matching FAQ questions alone, times the embedding search's weight.",
    )
    faq_question_min_similarity: float = Field(
        _FUSION.faq_question_min_similarity,
        ge=-1,
        le=1,
        description="Cosine an FAQ question needs to the customer's to count in that match.",
    )


def _default_ollama_host() -> str:
    # OLLAMA_HOST is how Ollama's own tools are pointed at a server; honour it, scheme optional.
    host = os.environ.get("OLLAMA_HOST") or "127.0.0.1:11434"
    return host if "://" in host else f"http://{host}"


class ModelSettings(BaseModel):
    backend: Literal["auto", "ollama", "llamacpp", "openai"] = Field(
        "auto",
        description="`auto`: Ollama when it answers and has the model, else the embedded model; "
        "`openai`: an OpenAI-compatible server (llama.cpp's server, vLLM, LM Studio, LocalAI) "
        "at `openai_base_url`.",
    )
    ollama_host: str = Field(
        default_factory=_default_ollama_host,
        description="Ollama's URL.",
        # The reference shows where the default comes from, not this machine's value.
        json_schema_extra={"shown_default": "$OLLAMA_HOST, else http://127.0.0.1:11434"},
    )
    ollama_hosts: list[str] = Field(
        [],
        description="Several Ollama servers with the same models pulled, e.g."
        ' ["http://gpu1:11434", "http://gpu2:11434"]: each answer goes to the next one up; one'
        " that fails is skipped and asked again after ollama_retry_after_s. Set, it is used"
        " instead of ollama_host.",
    )
    ollama_retry_after_s: float = Field(
        30.0, gt=0, description="How long an Ollama server that failed is left out."
    )
    ollama_model: str = Field(
        "qwen2.5:3b",
        description="The Ollama model tag, e.g. qwen2.5:3b, llama3.2:3b, phi3:mini, gemma2:2b.",
    )
    ollama_max_context_tokens: int = Field(
        8192, ge=1024, description="Upper bound on num_ctx sent to Ollama (memory grows with it)."
    )
    ollama_timeout_s: float = Field(120.0, gt=0, description="Longest wait for Ollama's reply.")
    gguf_path: Path | None = Field(
        None, description="A GGUF file for the embedded model; default: SmolLM2-135M-Instruct."
    )
    llamacpp_context_tokens: int = Field(
        4096, ge=512, description="The embedded model's context window."
    )
    threads: int | None = Field(None, ge=1, description="CPU threads for the embedded model.")
    openai_base_url: str = Field(
        "", description="An OpenAI-compatible server's API address, e.g. http://127.0.0.1:8080/v1."
    )
    openai_model: str = Field("", description="The model name that server serves.")
    openai_api_key: str = Field("", description="Its API key, if it asks for one.")
    openai_context_tokens: int = Field(
        4096, ge=512, description="The context the server was started with (it cannot be asked)."
    )
    openai_writes_from_sources: bool = Field(
        True,
        description="Whether that model may write answers from the documents (a model of 1B+"
        " parameters); false: the extract answers and the model is not asked.",
    )
    temperature: float = Field(0.2, ge=0, le=2, description="Sampling temperature.")

    def ollama_servers(self) -> list[str]:
        """The Ollama servers answers go to: `ollama_hosts`, else `ollama_host` alone."""
        return [host.rstrip("/") for host in self.ollama_hosts or [self.ollama_host]]


class AnsweringSettings(BaseModel):
    mode: Literal["auto", "generate", "extract"] = Field(
        "auto",
        description="`auto`: the model's answer, shown once the guard has passed all of it, "
        "else the sentence or row of a document that answers (the extract); `generate`: the "
        "model's answer as it streams, unchecked; `extract`: the extract, no model.",
    )
    model_answers: Literal["auto", "yes", "no"] = Field(
        "auto",
        description="In auto mode, whether the model writes answers at all. `auto`: when it "
        "can follow the sources (Ollama, or a GGUF model of about 3B parameters or more); the "
        "embedded SmolLM2-135M cannot, so by default the extract answers.",
    )
    passages: int = Field(4, ge=1, le=20, description="Passages given to the model.")
    gate: Literal["rules", "learned"] = Field(
        "rules",
        description="What decides whether the extract is shown: `rules`, the share of the"
        " question it states (chosen on the regression packs); `learned`, the gate fitted across"
        " businesses (chatbot/answering/gate.json; docs/ANSWERS.md has both measured).",
    )
    extract_passages: int = Field(
        8,
        ge=1,
        le=20,
        description="Passages the extract looks through for the sentence or row that answers.",
    )
    max_answer_tokens: int = Field(256, ge=16, description="Longest answer, in tokens.")
    max_generation_s: float = Field(
        90.0,
        gt=0,
        description="Longest a customer waits for the model, from the question on (a wait for "
        "the model included); past it they get the best passage quoted, and /readyz reports a "
        "request that has had no token for this long.",
    )
    max_question_chars: int = Field(
        2000, ge=10, description="Longer messages are refused politely."
    )
    history_turns: int = Field(3, ge=0, description="Earlier turns used to rewrite a follow-up.")
    min_similarity: float = Field(
        _RELEVANCE.min_similarity,
        ge=0,
        le=1,
        description="A passage this similar to the question (cosine) counts as relevant.",
    )
    min_coverage: float = Field(
        _RELEVANCE.min_coverage,
        ge=0,
        le=1,
        description="A passage with this share of the question's words counts as relevant.",
    )
    translate_questions: Literal["auto", "yes", "no"] = Field(
        "auto",
        description="Also search English documents with the model's English translation of a "
        "question asked in another language. `auto`: when the model can write from sources (as "
        "for model_answers; the embedded 135M model cannot translate).",
    )
    prompts_dir: Path | None = Field(
        None,
        description="A folder with your own answer.yaml, rewrite.yaml, messages.yaml "
        "(and translate.yaml; the shipped one where it has none).",
    )


class BotLimits(BaseModel):
    """What one visitor, and all visitors together, may ask of a bot: the abuse limits."""

    model_config = ConfigDict(extra="forbid")

    visitor_messages_per_minute: int = Field(
        8, ge=1, description="Messages one visitor (one network address) may send a minute."
    )
    bot_messages_per_minute: int = Field(
        120, ge=1, description="Messages all visitors together may send this bot a minute."
    )
    max_message_chars: int = Field(
        1000, ge=10, le=20000, description="Longest message a visitor may send, in characters."
    )
    max_turns: int = Field(
        40, ge=1, description="Questions in one conversation; then the visitor starts anew."
    )


def _email(value: str) -> str:
    """An e-mail address a profile names (the business's, its staff's), checked."""
    value = value.strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


class BotHandoff(BaseModel):
    """When the bot passes a conversation to a person, and how that person is shown."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("email_to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [_email(v) for v in value if v.strip()]

    enabled: bool = Field(
        True,
        description="Whether a customer can be passed to a person in the console's Inbox; off:"
        " asking for one gets the bot's contact details instead.",
    )
    after_misses: int = Field(
        2,
        ge=0,
        le=10,
        description="Questions the bot could not answer in a row before it asks a person to"
        " join; 0: only when the customer asks for one.",
    )
    email_to: list[str] = Field(
        default_factory=list,
        description="Staff e-mailed when a customer waits for a person or leaves a contact"
        " (needs alerts.smtp_host).",
    )
    show_staff_as: Literal["name", "team"] = Field(
        "team",
        description="How a person who joins is shown to the customer: their account's name, or"
        " only as someone from the team.",
    )


_CLOCK = r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?"
_HOURS = re.compile(rf"^{_CLOCK}\s*(?:-|–|to)\s*{_CLOCK}$", re.IGNORECASE)


def _minutes(hour: str, minute: str | None, half: str | None) -> int:
    h = int(hour)
    if half:
        if not 1 <= h <= 12:
            raise ValueError(f"{hour}{half} is not a time")
        h = h % 12 + (12 if half.lower() == "pm" else 0)
    return h * 60 + int(minute or 0)


def _day_hours(value: str) -> str:
    """`10:00-13:00, 14:00-20:00` (also written `10-13`, `10am-8pm`, `10.00 to 20.00`),
    normalised to the first form; empty: closed that day."""
    spans = []
    for part in (p.strip() for p in value.replace(";", ",").split(",")):
        if not part:
            continue
        found = _HOURS.match(part)
        if not found:
            raise ValueError(f"{part!r} is not a time span like 10:00-20:00")
        start, end = _minutes(*found.group(1, 2, 3)), _minutes(*found.group(4, 5, 6))
        if not start < end <= 24 * 60 or int(found[2] or 0) > 59 or int(found[5] or 0) > 59:
            raise ValueError(f"{part!r} is not a time span like 10:00-20:00")
        spans.append(f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}")
    return ", ".join(spans)


class BusinessHours(BaseModel):
    """When a person is there to answer customers (chatbot/inbox/hours.py): outside these hours a
    customer asking for one is told when the team is back. No day set: not known, the staff
    online in the console are all that counts."""

    model_config = ConfigDict(extra="forbid")

    mon: str = Field("", description="Monday, e.g. `10:00-13:00, 14:00-20:00`; empty: closed.")
    tue: str = Field("", description="Tuesday; empty: closed.")
    wed: str = Field("", description="Wednesday; empty: closed.")
    thu: str = Field("", description="Thursday; empty: closed.")
    fri: str = Field("", description="Friday; empty: closed.")
    sat: str = Field("", description="Saturday; empty: closed.")
    sun: str = Field("", description="Sunday; empty: closed.")
    closed_on: list[dt.date] = Field(
        default_factory=list, description="Other days closed (YYYY-MM-DD): leave, renovation."
    )
    public_holidays: str = Field(
        "",
        description="Closed on the public holidays of this Malaysian state, by the `holidays`"
        " package's codes: `07` or `PNG` Penang, `10` or `SGR` Selangor, `14` or `KUL` Kuala"
        " Lumpur (`chatbot bots set NAME business_hours.public_holidays=PNG`); empty: open on"
        " them.",
    )
    timezone: str = Field("Asia/Kuala_Lumpur", description="The business's time zone.")

    @field_validator("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    @classmethod
    def _spans(cls, value: str) -> str:
        return _day_hours(value)

    @field_validator("public_holidays")
    @classmethod
    def _state(cls, value: str) -> str:
        """Kept as the state's three-letter code (PNG), however it was named."""
        value = value.strip()
        if not value:
            return value
        from holidays.countries.malaysia import Malaysia

        aliases = Malaysia.subdivisions_aliases
        code = {k.casefold(): c for k, c in aliases.items()}.get(value.casefold(), value)
        if code not in Malaysia.subdivisions:
            raise ValueError(f"{value!r} is not a Malaysian state like PNG, Selangor or 07")
        return next(k for k, c in aliases.items() if c == code and len(k) == 3 and k.isupper())

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a time zone like Asia/Kuala_Lumpur") from exc
        return value


_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# The contact's labels in the customer's languages (BotProfile.contact_text).
_CONTACT_LABELS = {
    "en": {"phone": "phone", "email": "e-mail"},
    "ms": {"phone": "telefon", "email": "e-mel"},
    "zh": {"phone": "电话", "email": "电邮"},
}


class BotProfile(BaseModel):
    """What a bot says about itself, whom a customer can contact when it cannot help, and
    where and how much it may be used."""

    model_config = ConfigDict(extra="forbid")

    business: str = Field("our shop", description="The business's name, used in the prompt.")
    title: str = Field("Customer support", description="Shown above the chat.")
    greeting: str = Field(
        "Hello! Ask me anything about our products and services.",
        description="The bot's first message.",
    )
    suggestions: list[str] = Field(
        default_factory=list, description="Suggested questions shown under the greeting."
    )
    persona: str = Field(
        "Be friendly and concise.",
        description="Tone and persona, added to the prompt; never replaces its grounding rules.",
    )
    contact: str = Field(
        "", description="How to reach a person (phone, e-mail, hours), offered on fallback."
    )
    phone: str = Field("", description="The business's phone number, offered on fallback.")
    email: str = Field("", description="The business's e-mail address, offered on fallback.")
    whatsapp: str = Field(
        "", description="A WhatsApp number (+60123456789); offered as a wa.me link on fallback."
    )
    hours: str = Field("", description="Opening hours, e.g. Mon-Sat 10am-8pm.")
    colour: str = Field("#0f766e", description="The chat's accent colour, as #rrggbb.")
    avatar: str = Field(
        "", description="URL of the bot's picture (https:// or /path); empty: its initial."
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Sites allowed to embed the bot and call its chat API, e.g."
        " https://shop.example; none: embedding is off.",
    )
    limits: BotLimits = BotLimits()
    handoff: BotHandoff = BotHandoff()
    business_hours: BusinessHours = BusinessHours()
    languages: list[Literal["en", "ms", "zh", "ja", "ko"]] = Field(
        default_factory=list,
        description="Languages the bot answers in; a customer writing in another gets the first"
        " of them. Empty: whatever language the customer writes.",
    )
    model: str = Field(
        "",
        description="The chat model of this bot: empty for the deployment's (model.*),"
        " `embedded` for the built-in one, or an Ollama model tag such as llama3.2:3b.",
    )
    answer_mode: Literal["default", "auto", "generate", "extract"] = Field(
        "default",
        description="This bot's answer mode; `default`: the deployment's (answering.mode).",
    )
    retention_days: int = Field(
        30,
        ge=0,
        le=3650,
        description="Days conversations, ratings and consents are kept; then the purge deletes"
        " them. 0: deleted at the next purge.",
    )
    privacy_notice: dict[Literal["en", "ms", "zh"], str] = Field(
        default_factory=dict,
        description="The privacy notice a customer agrees to before chatting, by language;"
        " a language left out gets the default text. Changing it makes a new notice version.",
    )

    @field_validator("whatsapp")
    @classmethod
    def _whatsapp_number(cls, value: str) -> str:
        digits = re.sub(r"[\s()-]", "", value)
        if digits and not re.fullmatch(r"\+?\d{8,15}", digits):
            raise ValueError(f"{value!r} is not a phone number like +60123456789")
        return digits

    @field_validator("email")
    @classmethod
    def _email_address(cls, value: str) -> str:
        return _email(value) if value.strip() else ""

    def contact_text(self, language: str = "en") -> str:
        """How a customer reaches a person: the free text, then each way set, labelled in the
        customer's language ("telefon", "电话")."""
        label = _CONTACT_LABELS.get(language, _CONTACT_LABELS["en"])
        ways = [self.contact.strip()]
        if self.phone:
            ways.append(f"{label['phone']} {self.phone}")
        if self.whatsapp:
            ways.append(f"WhatsApp https://wa.me/{self.whatsapp.lstrip('+')}")
        if self.email:
            ways.append(f"{label['email']} {self.email}")
        text = ", ".join(w for w in ways if w)
        return f"{text} ({self.hours})" if self.hours and text else text or self.hours

    @field_validator("model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        value = value.strip()
        if value and not re.match(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$", value):
            raise ValueError(f"{value!r} is not a model name like llama3.2:3b or embedded")
        return value

    @field_validator("colour")
    @classmethod
    def _hex_colour(cls, value: str) -> str:
        if not _COLOUR.match(value):
            raise ValueError(f"{value!r} is not a colour like #0f766e")
        return value.lower()

    @field_validator("avatar")
    @classmethod
    def _avatar_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://", "/")):
            raise ValueError(f"{value!r} is not a URL (https://... or /path)")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        normalised = [normalise_origin(v) for v in values]
        return list(dict.fromkeys(normalised))  # order kept, duplicates dropped


class DatabaseSettings(BaseModel):
    url: str | None = Field(
        None,
        description="SQLAlchemy URL of the application database (accounts, audit log,"
        " conversations), e.g. postgresql+psycopg://chatbot@db/chatbot;"
        " default: SQLite at <data dir>/chatbot.db.",
    )


class SharedStateSettings(BaseModel):
    redis_url: str | None = Field(
        None,
        description="Redis for what every server must see alike: rate limits, answer slots,"
        " the turns of conversations in progress, e.g. redis://redis:6379/0. Unset: the"
        " PostgreSQL database when database.url is one, else this process's memory (one"
        " server).",
    )


class JobSettings(BaseModel):
    stalled_after_s: float = Field(
        30.0,
        ge=3,
        description="A worker silent this long (it died, or its machine did) has its job given"
        " to another worker (`chatbot worker`; with database.url on PostgreSQL).",
    )
    retry_after_s: float = Field(
        30.0,
        ge=1,
        description="A job that found the vector store or the database down waits this long,"
        " then is tried again (as often as it takes; nothing of it is lost).",
    )


class AdminSettings(BaseModel):
    session_hours: float = Field(
        8, gt=0, description="How long a staff login lasts without logging in again."
    )
    failed_logins_allowed: int = Field(
        5,
        ge=1,
        description="Failed logins, per account and per address in 15 minutes, before further"
        " attempts must wait.",
    )


class PrivacySettings(BaseModel):
    purge_every_minutes: float = Field(
        60,
        gt=0,
        description="How often the server deletes conversations past their bot's retention_days.",
    )


class AlertSettings(BaseModel):
    """How staff are told of a customer waiting for a person or a new lead: e-mail through the
    business's own SMTP server, and signed webhooks (chatbot/inbox/alerts.py), each delivery
    retried with backoff until it succeeds or `max_attempts` is spent."""

    model_config = ConfigDict(extra="forbid")

    smtp_host: str = Field("", description="The SMTP server e-mail goes out through; empty: none.")
    smtp_port: int = Field(587, ge=1, le=65535, description="Its port (587 submission, 25, 465).")
    smtp_starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    smtp_ssl: bool = Field(False, description="Connect over TLS from the start (port 465).")
    smtp_username: str = Field("", description="Login name on the SMTP server; empty: none.")
    smtp_password: str = Field(
        "", description="Its password (better in CHATBOT_ALERTS__SMTP_PASSWORD than in a file)."
    )
    sender: str = Field("", description="The From address, e.g. chatbot@shop.example.")
    console_url: str = Field(
        "", description="The console's address as staff reach it, linked from each e-mail."
    )
    retry_base_s: float = Field(
        30.0, gt=0, description="Wait before the first retry; doubled after each failure."
    )
    max_attempts: int = Field(8, ge=1, le=30, description="Tries before a delivery is failed.")
    check_s: float = Field(2.0, gt=0, description="How often each server sends what is due.")


class WhatsAppSettings(BaseModel):
    """WhatsApp through Meta's Cloud API (chatbot/whatsapp, docs/WHATSAPP.md): what every bot's
    channel shares. Each bot's number and secrets are set by its owner (`chatbot whatsapp
    connect`, or the console) and kept sealed in the database, not here."""

    model_config = ConfigDict(extra="forbid")

    graph_url: str = Field(
        "https://graph.facebook.com/v21.0",
        description="Meta's Graph API, with its version. Only this address is called.",
    )
    retry_base_s: float = Field(
        2.0, gt=0, description="Wait before a failed send is tried again; doubled each time."
    )
    max_attempts: int = Field(
        10, ge=1, le=30, description="Tries before a reply is given up (a refused token waits)."
    )
    check_s: float = Field(1.0, gt=0, description="How often each server looks for work.")
    parked_hours: float = Field(
        24.0,
        gt=0,
        description="How long what a customer wrote before agreeing to the notice is held "
        "(sealed) for an answer; then it and their number are deleted.",
    )


class OutcomeSettings(BaseModel):
    """How the console counts what became of conversations (chatbot/inbox/outcomes.py,
    docs/OUTCOMES.md)."""

    model_config = ConfigDict(extra="forbid")

    ended_after_minutes: float = Field(
        30.0,
        ge=0,
        description="A conversation with no message for this long has ended: it counts as"
        " resolved or not from then on (before, it is still open).",
    )


class ServerSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address to listen on; loopback by default.")
    port: int = Field(7860, ge=1, le=65535, description="Port to listen on.")
    concurrent_answers: int = Field(
        4,
        ge=1,
        description="Answers generated at once per bot; more customers wait in a queue.",
    )
    waiting_answers: int = Field(
        16,
        ge=0,
        description="Chat API requests that may wait for a free answer slot, per bot; beyond"
        " that a visitor is told the assistant is busy.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Reverse proxies (addresses or networks, e.g. 127.0.0.1/32) whose"
        " X-Forwarded-For names the visitor; from anyone else that header is ignored.",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CHATBOT_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Field(Path("data"), description="Where knowledge bases and indexes live.")
    log_level: str = Field("WARNING", description="Log level of the application log.")
    embedding: EmbeddingSettings = EmbeddingSettings()
    vector_store: VectorStoreSettings = VectorStoreSettings()
    ingest: IngestSettings = IngestSettings()
    crawl: CrawlSettings = CrawlSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    model: ModelSettings = ModelSettings()
    answering: AnsweringSettings = AnsweringSettings()
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    shared_state: SharedStateSettings = SharedStateSettings()
    jobs: JobSettings = JobSettings()
    admin: AdminSettings = AdminSettings()
    privacy: PrivacySettings = PrivacySettings()
    alerts: AlertSettings = AlertSettings()
    whatsapp: WhatsAppSettings = WhatsAppSettings()
    outcomes: OutcomeSettings = OutcomeSettings()
    bots: dict[str, BotProfile] = Field(
        default_factory=dict, description="Per-bot profile, by bot name; others get defaults."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: command-line flags, then the environment, then the YAML file.
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if (yaml_file := _YAML_FILE.get()) is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)


class SettingsError(KnowledgeError):
    """The configuration cannot be used; the message says which setting and why."""


def load_settings(config: Path | None = None, data_dir: Path | None = None) -> Settings:
    """Read the settings once. `config` and `data_dir` come from command-line flags."""
    chosen_data_dir = data_dir or Path(os.environ.get("CHATBOT_DATA_DIR") or "data")
    path = config or (Path(c) if (c := os.environ.get("CHATBOT_CONFIG")) else None)
    if path is None and (chosen_data_dir / "config.yaml").is_file():
        path = chosen_data_dir / "config.yaml"
    if path is not None:
        if not path.is_file():
            raise SettingsError(f"config file {path} does not exist")
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SettingsError(f"config file {path} is not valid YAML ({exc})") from exc
        if content is not None and not isinstance(content, dict):
            raise SettingsError(f"config file {path} must hold a mapping of settings")
    flags: dict[str, Any] = {"data_dir": data_dir} if data_dir else {}
    token = _YAML_FILE.set(path)
    try:
        return Settings(**flags)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SettingsError(f"setting {where}: {first['msg']}") from exc
    finally:
        _YAML_FILE.reset(token)
