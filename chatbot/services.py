"""Everything built from the settings, in one place, lazily: nothing heavy happens at import."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatbot.answering.prompts import PromptSet
from chatbot.bots.registry import BotRegistry
from chatbot.limits.rates import Limiter, RateLimiter, SharedRateLimiter
from chatbot.limits.slots import AnswerSlots, SharedAnswerSlots, Slots
from chatbot.offline import switch_off_phoning_home
from chatbot.settings import AnsweringSettings, BotProfile, Settings
from chatbot.shared_state import SharedStore
from chatbot.store.accounts import Accounts
from chatbot.store.audit import AuditLog
from chatbot.store.conversations import ConversationLog
from chatbot.store.ingest_jobs import IngestJobs
from chatbot.store.leads import Leads
from chatbot.store.live import LiveConversations, SharedLiveConversations
from chatbot.store.outcomes import OutcomeLog
from chatbot.store.personal_data import PersonalData
from chatbot.store.pins import PinnedAnswers
from chatbot.store.test_questions import TestQuestions
from chatbot.store.uploads import UploadLog
from chatbot.store.websites import Websites
from knowledge.base import KnowledgeBase, check_bot_name
from knowledge.crawl.site import CrawlLimits
from knowledge.embeddings import SentenceEmbedder
from knowledge.errors import KnowledgeError
from knowledge.ingest import IngestLimits
from knowledge.layout import chroma_folder
from knowledge.parse_worker import ParseLimits
from knowledge.retrieval import FusionSettings
from knowledge.splitting import SplitSettings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from sqlalchemy import Engine

    from chatbot.answering.chain import Answerer
    from chatbot.inbox.alerts import Alerts
    from chatbot.inbox.desk import SupportDesk
    from chatbot.jobs.queue import JobQueue
    from chatbot.llm.watch import GenerationWatch
    from chatbot.whatsapp.desk import WhatsAppDesk

# The answering chain and the chat models (LangChain's language models, which load LangSmith's
# tracing) are imported where a model is built: a command that only ingests, lists or searches
# starts sooner without them (`chatbot docs`: 2.4 s -> 1.8-2.0 s).

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings) -> None:
        switch_off_phoning_home()
        from chatbot.privacy.keys import protect_data_dir

        protect_data_dir(settings.data_dir)
        self.settings = settings
        self._knowledge: dict[str, KnowledgeBase] = {}
        self._models: dict[str, BaseChatModel | None] = {}
        self._building = threading.Lock()  # models, answer slots and the queue: built once
        self._slots: dict[str, Slots] = {}
        self._queue: JobQueue | None = None

    @cached_property
    def embedder(self) -> SentenceEmbedder:
        cfg = self.settings.embedding
        return SentenceEmbedder(
            cfg.model,
            batch_size=cfg.batch_size,
            precision=cfg.precision,
            runtime=cfg.runtime,
            cache_dir=cfg.cache_dir,
            max_tokens=cfg.max_tokens,
        )

    @cached_property
    def chroma(self) -> Any:
        from knowledge.vectors import open_chroma

        url = self.settings.vector_store.chroma_url
        if url:
            log.info("vector store: Chroma server at %s", url)
            return open_chroma(url=url)
        path = chroma_folder(self.settings.data_dir)
        path.mkdir(parents=True, exist_ok=True)
        return open_chroma(path=str(path))

    def ingest_limits_for(self, bot: str) -> IngestLimits:
        """The limits with OCR in the bot's languages (the loaders keep those Tesseract has
        here when they first need OCR)."""
        from knowledge.ocr import wanted_languages

        limits = self.ingest_limits
        if not self.settings.ingest.ocr:
            return limits
        languages = wanted_languages(self.profile(bot).languages)
        return replace(limits, parse=replace(limits.parse, ocr_languages=languages))

    @cached_property
    def ingest_limits(self) -> IngestLimits:
        cfg = self.settings.ingest
        return IngestLimits(
            max_file_mb=cfg.max_file_mb,
            max_passages=cfg.max_passages,
            max_embed_s=cfg.max_embed_s,
            parse=ParseLimits(
                timeout_s=cfg.parse_timeout_s,
                memory_mb=cfg.parse_memory_mb,
                max_pages=cfg.max_pages,
            ),
        )

    @cached_property
    def bots(self) -> BotRegistry:
        return BotRegistry(self.database, self.settings.data_dir, self.settings.bots)

    def bot_dir(self, bot: str) -> Path:
        return self.bots.folder(check_bot_name(bot))

    def bot_names(self) -> list[str]:
        return self.bots.names()

    def profile(self, bot: str) -> BotProfile:
        return self.bots.profile(bot)

    def delete_bot(self, bot: str) -> None:
        """The bot and everything of it: vectors, catalog, conversations, profile. Whether it may
        be deleted is checked first: a refusal leaves everything as it was."""
        self.bots.check_deletable(bot)
        self.conversations.delete_bot(bot)
        self.websites.forget_bot(bot)
        self.personal_data.delete_bot(bot)
        self.uploads.forget(bot)
        self.ingest_jobs.forget_bot(bot)
        self.pins.forget_bot(bot)
        self.test_questions.forget_bot(bot)
        self.alerts.store.forget_bot(bot)
        self.whatsapp.store.forget_bot(bot)
        self.accounts.forget_bot(bot)  # a shop's staff limited to it see it no more
        self.knowledge(bot).drop()
        self._knowledge.pop(bot).close()
        self.bots.delete(bot)

    def knowledge(self, bot: str, *, reindexing: bool = False) -> KnowledgeBase:
        """The bot's knowledge base; `reindexing` opens it even if indexed with another model."""
        if bot not in self._knowledge:
            ingest, retrieval = self.settings.ingest, self.settings.retrieval
            catalog = None
            if self.shares_database:
                from knowledge.catalog.postgres import PostgresCatalog

                catalog = PostgresCatalog(self.database, check_bot_name(bot))
            self._knowledge[bot] = KnowledgeBase(
                bot,
                self.bot_dir(bot),
                lambda: self.chroma,  # opened when its vectors are first needed
                self.embedder,
                split=SplitSettings(ingest.chunk_target_tokens, ingest.chunk_max_tokens),
                # The retrieval settings are the fusion settings plus k, which callers pass.
                fusion=FusionSettings(**retrieval.model_dump(exclude={"k"})),
                check_model=not reindexing,
                catalog=catalog,
            )
        return self._knowledge[bot]

    @cached_property
    def prompts(self) -> PromptSet:
        return PromptSet.load(self.settings.answering.prompts_dir)

    @cached_property
    def chat_model(self) -> BaseChatModel | None:
        """The deployment's chat model; None in extract mode, which never calls one."""
        if self.settings.answering.mode == "extract":
            log.info("answer mode extract: no chat model loaded")
            return None
        from chatbot.llm.base import label
        from chatbot.llm.select import choose_model

        model, why = choose_model(
            self.settings.model, self.settings.answering.max_generation_s, [self.generations]
        )
        log.warning("chat model: %s (%s)", label(model), why)
        return model

    @cached_property
    def generations(self) -> GenerationWatch:
        """The answers being generated, for /readyz: one gone silent means answering stopped."""
        from chatbot.llm.watch import GenerationWatch

        return GenerationWatch()

    @cached_property
    def conversations(self) -> ConversationLog:
        return ConversationLog(self.database)

    @cached_property
    def outcomes(self) -> OutcomeLog:
        """What became of each conversation (resolved, handed to a person, rated)."""
        return OutcomeLog(self.database)

    @cached_property
    def personal_data(self) -> PersonalData:
        from chatbot.privacy.keys import local_secret

        return PersonalData(self.database, local_secret(self.settings.data_dir, "contacts"))

    @cached_property
    def shared_state(self) -> SharedStore | None:
        """Where several servers keep what they must see alike; None: one server, its memory."""
        url = self.settings.shared_state.redis_url
        if url:
            from chatbot.shared_state.redis import RedisStore

            return RedisStore(url)
        if self.shares_database:
            from chatbot.shared_state.database import DatabaseStore

            return DatabaseStore(self.database)
        return None

    @cached_property
    def leads(self) -> Leads:
        """What customers left for a call back, sealed with the data directory's key."""
        from chatbot.privacy.keys import local_secret

        return Leads(self.database, local_secret(self.settings.data_dir, "leads"))

    @cached_property
    def desk(self) -> SupportDesk:
        """Handoff to a person: the inbox's store, who of the staff is there, what is said."""
        from chatbot.inbox.desk import SupportDesk
        from chatbot.inbox.presence import StaffPresence
        from chatbot.store.inbox import InboxStore

        return SupportDesk(
            InboxStore(self.database),
            StaffPresence(self.shared_state),
            self.prompts.messages,
            self.alerts,
        )

    @cached_property
    def alerts(self) -> Alerts:
        """E-mail and webhooks telling staff what needs them, through an outbox every server
        drains (started by `chatbot serve`)."""
        from chatbot.inbox.alerts import Alerts
        from chatbot.privacy.keys import local_secret
        from chatbot.store.alerts import AlertStore

        store = AlertStore(self.database, local_secret(self.settings.data_dir, "webhooks"))
        return Alerts(store, self.settings.alerts)

    @cached_property
    def whatsapp(self) -> WhatsAppDesk:
        """The bot on WhatsApp: channels, customers and messages (sealed with a key of the data
        directory's), handled off the webhook by every server (started by `chatbot serve`)."""
        from chatbot.privacy.keys import local_secret
        from chatbot.store.whatsapp import WhatsAppStore
        from chatbot.whatsapp.desk import WhatsAppDesk

        store = WhatsAppStore(self.database, local_secret(self.settings.data_dir, "whatsapp"))
        return WhatsAppDesk(self, store)

    @cached_property
    def live(self) -> LiveConversations | SharedLiveConversations:
        if self.shared_state is None:
            return LiveConversations()
        from chatbot.privacy.keys import local_secret

        return SharedLiveConversations(
            self.shared_state, local_secret(self.settings.data_dir, "live")
        )

    def rate_limiter(self, name: str) -> Limiter:
        """A limit on requests a minute; `name` keeps one limit's counts apart from another's."""
        if self.shared_state is None:
            return RateLimiter()
        return SharedRateLimiter(self.shared_state, name)

    def answer_slots(self, bot: str) -> Slots:
        """The places for answers being generated for `bot`, one set per bot and process."""
        with self._building:
            if bot not in self._slots:
                server = self.settings.server
                running, waiting = server.concurrent_answers, server.waiting_answers
                if self.shared_state is None:
                    self._slots[bot] = AnswerSlots(running, waiting)
                else:
                    # Longer than any answer may take (the model is stopped at
                    # max_generation_s), so a live answer's place is never taken from it.
                    lease_s = 2 * self.settings.answering.max_generation_s + 60
                    self._slots[bot] = SharedAnswerSlots(
                        self.shared_state, bot, running, waiting, lease_s
                    )
            return self._slots[bot]

    @cached_property
    def accounts(self) -> Accounts:
        admin = self.settings.admin
        return Accounts(self.database, admin.session_hours, admin.failed_logins_allowed)

    @cached_property
    def pins(self) -> PinnedAnswers:
        return PinnedAnswers(self.database)

    @cached_property
    def uploads(self) -> UploadLog:
        return UploadLog(self.database)

    @cached_property
    def test_questions(self) -> TestQuestions:
        return TestQuestions(self.database)

    @cached_property
    def ingest_jobs(self) -> IngestJobs:
        return IngestJobs(self.database)

    @property
    def shares_database(self) -> bool:
        """Whether the database is one several servers share (PostgreSQL): the knowledge
        catalog, the job queue and, without Redis, the shared state live there too."""
        return self.database.dialect.name == "postgresql"

    @property
    def has_job_queue(self) -> bool:
        """Whether uploads and website reads go to workers (a shared database has a queue)."""
        return self.shares_database

    def job_queue(self) -> JobQueue:
        """The queue on the application database, opened at first use."""
        with self._building:
            if self._queue is None:
                if not self.has_job_queue:
                    raise KnowledgeError("a job queue needs database.url to be PostgreSQL")
                from chatbot.jobs.queue import JobQueue
                from chatbot.jobs.run import run_job

                self._queue = JobQueue(
                    self.database,
                    lambda job_id: run_job(self, job_id),
                    self.settings.jobs.retry_after_s,
                )
            return self._queue

    @cached_property
    def websites(self) -> Websites:
        return Websites(self.database)

    def crawl_limits(self) -> CrawlLimits:
        cfg = self.settings.crawl
        return CrawlLimits(
            max_pages=cfg.max_pages,
            max_depth=cfg.max_depth,
            max_page_bytes=round(cfg.max_page_mb * 1e6),
            max_total_s=cfg.max_total_s,
            pace_s=cfg.pace_s,
            timeout_s=cfg.timeout_s,
            allow_private=cfg.allow_private_addresses,
        )

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.database)

    @cached_property
    def database(self) -> Engine:
        """The application database, migrated to the current schema."""
        from chatbot.store.database import database_url, open_database

        return open_database(database_url(self.settings.database.url, self.settings.data_dir))

    def warm_up(self, *bots: str) -> None:
        """Load the models before the first question, so that no customer waits for it and
        timings measure answering. An Ollama that is down only logs: it may come back."""
        for bot in bots:
            self.knowledge(bot)
        self.embedder.embed_query("warm-up")
        from chatbot.llm.base import ModelUnavailable, check
        from chatbot.llm.llamacpp import LlamaCppChatModel

        for model in self.models_asked(bots):
            try:
                check(model)
            except ModelUnavailable as exc:
                if isinstance(model, LlamaCppChatModel):
                    raise  # the embedded model does not come back by itself; a server may
                log.warning("%s; customers are told the assistant is offline until it is up", exc)

    def models_asked(self, bots: Iterable[str]) -> list[BaseChatModel]:
        """The chat models that answers call, each once: the deployment's (for any bot with
        the deployment's settings, those made later included) and those `bots` have of their
        own. The embedded default is asked for nothing in `auto` (it cannot write from
        sources): it is not loaded, and a server holds 190 MB less (the demo shop: 277 MB
        against 466 MB)."""
        from chatbot.answering.chain import model_calls

        used = [(self.settings.answering, self.chat_model)]
        used += [self._answering(self.profile(bot)) for bot in bots]
        models: dict[int, BaseChatModel] = {}
        for settings, model in used:
            if model is not None and any(model_calls(model, settings)):
                models[id(model)] = model
        return list(models.values())

    def _answering(self, profile: BotProfile) -> tuple[AnsweringSettings, BaseChatModel | None]:
        """A bot's answering settings (its own answer mode over the deployment's) and model."""
        settings = self.settings.answering
        if profile.answer_mode != "default":
            settings = settings.model_copy(update={"mode": profile.answer_mode})
        model = None if settings.mode == "extract" else self.model_for(profile.model)
        return settings, model

    def answerer(self, bot: str) -> Answerer:
        from chatbot.answering.chain import Answerer

        profile = self.profile(bot)
        settings, model = self._answering(profile)
        return Answerer(
            knowledge=self.knowledge(bot),
            model=model,
            prompts=self.prompts,
            profile=profile,
            settings=settings,
        )

    def model_for(self, model: str) -> BaseChatModel | None:
        """The chat model a bot asked for: "" the deployment's, "embedded", or an Ollama tag.
        Each is built once and shared by the bots that use it."""
        if not model:
            return self.chat_model
        with self._building:
            if model not in self._models:
                from chatbot.llm.llamacpp import LlamaCppChatModel
                from chatbot.llm.select import embedded_model, ollama_model

                current = self.chat_model
                cfg, watch = self.settings.model, [self.generations]
                if model == "embedded" and isinstance(current, LlamaCppChatModel):
                    self._models[model] = current  # the deployment's own
                elif model == "embedded":
                    wait_s = self.settings.answering.max_generation_s
                    self._models[model] = embedded_model(cfg, wait_s, watch)
                else:
                    self._models[model] = ollama_model(cfg, model, watch)
            return self._models[model]

    def close(self) -> None:
        for kb in self._knowledge.values():
            kb.close()
        self._knowledge.clear()
        if self._queue is not None:
            self._queue.close()
        if (shared := self.__dict__.get("shared_state")) is not None:
            shared.close()
        if "database" in self.__dict__:
            self.database.dispose()
