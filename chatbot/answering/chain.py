"""The answering chain: tell a follow-up, search, ask the model, check, or extract.

Each step degrades to something useful rather than failing: a model that is unreachable, too
slow, or whose answer the guard withholds gives way to the extract (the sentence or row of a
document that answers); nothing relevant found, or no confident extract, means the customer is
told so and given the business's contact. In auto mode nothing is shown before it is checked.

The model is any LangChain chat model (`chatbot.llm`). The chain itself is a plain generator of
events rather than an LCEL runnable: in `generate` mode its `Replace` event takes back text
already shown, which a runnable's stream of output chunks cannot express, and each step's
fallback depends on what the steps before it found.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from chatbot.answering.extract import extract
from chatbot.answering.followup import is_follow_up
from chatbot.answering.gate import RULES, Judge, shipped
from chatbot.answering.guard import SourceFacts, StreamGuard
from chatbot.answering.language import LANGUAGE_NAMES, detect_language
from chatbot.answering.parts import question_parts
from chatbot.answering.pinned import pinned_answer
from chatbot.answering.prompts import PromptSet
from chatbot.answering.question import Question
from chatbot.answering.result import Answer, Delta, Done, Event, Fallback, Replace, Source
from chatbot.answering.smalltalk import SmallTalk, small_talk
from chatbot.llm.base import (
    ModelUnavailable,
    context_window,
    label,
    prompt_tokens,
    writes_from_sources,
)
from chatbot.llm.think import without_thinking
from chatbot.settings import AnsweringSettings, BotProfile
from knowledge.base import KnowledgeBase
from knowledge.colloquial import standard_spelling
from knowledge.documents import Hit
from knowledge.errors import StoreUnavailable
from knowledge.glossary import other_words
from knowledge.instructions import without_instructions
from knowledge.language import QueryLanguage, query_language
from knowledge.query import Query
from knowledge.relevance import RelevanceSettings, is_relevant

log = logging.getLogger(__name__)

_REWRITE_TOKENS = 64


@dataclass(frozen=True, slots=True)
class Turn:
    question: str
    answer: str


Stop = Callable[[], bool]  # asked between tokens: True when nobody waits for the answer any more


def _never() -> bool:
    return False


@dataclass(frozen=True, slots=True)
class _Patience:
    """What one request may still ask of the model: until nobody waits (`stop`), and until its
    deadline, answering.max_generation_s after the question (for every step, rewrite and
    translation included: the limit is the customer's wait, not each call's)."""

    stop: Stop
    deadline: float  # time.perf_counter()

    def past_deadline(self) -> bool:
        return time.perf_counter() > self.deadline


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def _model_line(text: str, question: str) -> str:
    """The first line of a short completion about `question` (a rewrite, a translation), or ""
    when there is none or it runs on far longer than the question (a small model rambling)."""
    line = text.strip().splitlines()[0].strip(" \"'") if text.strip() else ""
    return "" if len(line) > 3 * len(question) + 120 else line


def _merged(own: list[Hit], translated: list[Hit], rrf_k: int) -> list[Hit]:
    """Two searches' hits as one ranking by reciprocal rank: a passage both found comes first.
    On a tie the search in the customer's own words wins: in a bilingual FAQ, the entry in the
    customer's language rather than its English twin (what `same_language_boost` does within
    one search)."""
    scores: dict[str, float] = {}
    by_id: dict[str, Hit] = {}
    for ranking in (own, translated):
        for rank, hit in enumerate(ranking):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + 1 / (rrf_k + rank + 1)
            by_id.setdefault(hit.chunk_id, hit)
    # sorted() is stable: on equal scores the own search's hits, listed first, stay first.
    return sorted(by_id.values(), key=lambda hit: scores[hit.chunk_id], reverse=True)


def _messages(system: str, user: str) -> list[BaseMessage]:
    return [SystemMessage(content=system), HumanMessage(content=user)]


def _texts(
    model: BaseChatModel, system: str, user: str, max_tokens: int
) -> Generator[str, None, None]:
    """The model's answer as text pieces. Closing this generator closes LangChain's stream, and
    so the model's: llama.cpp is free at once, Ollama's HTTP response is closed."""
    chunks = model.stream(_messages(system, user), max_tokens=max_tokens)
    with closing(chunks):  # type: ignore[type-var]  # a generator at run time
        for chunk in chunks:
            if isinstance(chunk.content, str) and chunk.content:
                yield chunk.content


def model_calls(model: BaseChatModel | None, settings: AnsweringSettings) -> tuple[bool, bool]:
    """Whether answers made with `settings` ask `model` to write them, and to translate
    questions and rewrite follow-ups: all a model is asked for. One asked for neither is not
    loaded (chatbot.services.Services.models_asked)."""
    # The embedded 135M model cannot translate, nor write from sources: asked to, it echoes
    # the question or rambles (checked on the demo shop's Malay and Chinese questions).
    capable = model is not None and writes_from_sources(model)
    writes = model is not None and (
        settings.mode == "generate"
        or settings.model_answers == "yes"
        or (settings.model_answers == "auto" and capable)
    )
    translates = model is not None and (
        settings.translate_questions == "yes"
        or (settings.translate_questions == "auto" and capable)
    )
    return writes, translates


class Answerer:
    """Answers one bot's customers. Thread-safe: it keeps no per-conversation state."""

    def __init__(
        self,
        *,
        knowledge: KnowledgeBase,
        model: BaseChatModel | None,
        prompts: PromptSet,
        profile: BotProfile,
        settings: AnsweringSettings,
        gate: Judge | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.model = model
        self.prompts = prompts
        self.profile = profile
        self.settings = settings
        self.relevance = RelevanceSettings(settings.min_similarity, settings.min_coverage)
        # The extract looks further down the ranking than the model reads: its gate, not the
        # rank, decides whether what it finds answers.
        self.found_k = max(settings.passages, settings.extract_passages)
        # What decides whether the extract is shown: given (bench.sme), else the setting's.
        self.gate = gate or (shipped() if settings.gate == "learned" else RULES)
        self.writes, self.translates = model_calls(model, settings)

    # -- the chain ---------------------------------------------------------------------
    def read(self, message: str, history: Sequence[Turn] = ()) -> Question:
        """`message` as every step of its answer reads it (its language, terms, figures,
        whether it follows up on `history`), worked out once."""
        text = message.strip()
        # Searched and matched in the documents' spellings: "brp harga utk saga?" as "berapa
        # harga untuk saga?"; the customer's own words are what is kept and shown.
        asked = standard_spelling(text)
        group = query_language(asked)
        language = detect_language(asked, group)
        allowed = self.profile.languages
        language = language if not allowed or language in allowed else allowed[0]
        if not text or len(text) > self.settings.max_question_chars:
            return Question(text, Query.of(asked, group), language, None, None)
        if (talk := small_talk(text)) is not None:  # a reply, not a search: nothing to match
            return Question(text, Query.of(asked, group), language, None, talk)
        follows = self._follows(asked, history)
        # Misspellings of the documents' own words made those words: "radiatr" as "radiator".
        vocabulary = self.knowledge.vocabulary(self.knowledge.documents())
        query = Query.of(vocabulary.corrected(asked), group)
        # The earlier question is read as the customer's too: what it shares with the answer
        # is weighed in the same terms.
        earlier = query.searching(vocabulary.corrected(follows)) if follows else None
        return Question(text, query, language, earlier, None)

    def stream(
        self, message: Question | str, history: Sequence[Turn] = (), stop: Stop = _never
    ) -> Generator[Event, None, None]:
        """The answer as events, ending with Done; `stop` (checked between the model's tokens)
        ends it early, without Done, when the customer has gone: the model is free at once.
        `message` is what `read` made of it (the chat API reads it first), or the text."""
        started = time.perf_counter()
        patience = _Patience(stop, started + self.settings.max_generation_s)
        question = message if isinstance(message, Question) else self.read(message, history)
        answer = Answer(question=question.text, language=question.language, asked=question.asked)
        messages = self.prompts.messages
        if not question.text:
            yield from self._finish(
                answer, messages.get(answer.language, "empty"), "empty", started
            )
            return
        if len(question.text) > self.settings.max_question_chars:
            text = messages.get(answer.language, "too_long")
            yield from self._finish(answer, text, "too_long", started)
            return

        if question.talk is not None:
            # "hi", "thanks!", "can I talk to a person?": a reply, not a search that fails.
            answer.kind = "smalltalk"
            text = self._small_talk(question.talk, answer.language)
            yield from self._finish(answer, text, None, started)
            return
        if not self.knowledge.documents():  # a bot made in the console, no documents yet
            text = self._say(answer.language, "not_ready")
            yield from self._finish(answer, text, "not_ready", started)
            return
        follows = question.follows
        search = self._standalone(question, history, patience)
        answer.search_query = search.text
        try:
            found, relevant = self._search(search, question.query, follows, patience)
        except StoreUnavailable as exc:  # the Chroma server is down: nothing can be looked up
            log.warning("search failed: %s", exc)
            text = self._offline(answer.language)
            yield from self._finish(answer, text, "store_error", started)
            return
        answer.timings_ms["retrieve"] = _ms(started)
        if not self.writes and len(parts := question_parts(question.asked)) > 1:
            # "How far is it from the airport and how long does it take by car?": each part
            # from the sentence that answers it, when every part has one.
            try:
                whole = self._each_part(answer, question, parts, patience)
            except StoreUnavailable:
                whole = None  # the whole message's search worked: it is answered as one
            if whole is not None:
                yield from self._finish(answer, whole, None, started)
                return
        if not self.gate.judges_all_found:
            found = relevant
        if not found:
            # (Not the question itself: customers' words stay out of the log.)
            log.info("nothing found for a %s question", answer.language)
            yield from self._finish(answer, self._no_answer(answer.language), "no_match", started)
            return

        if relevant and (pinned := pinned_answer(relevant[0])) is not None:
            # Staff wrote this answer for this question: it is given as written.
            answer.answered = True
            answer.kind = "pinned"
            answer.model = "pinned"
            answer.sources = [Source.of(relevant[0])]
            yield from self._finish(answer, pinned, None, started)
            return
        if self.model is None or not self.writes or not relevant:
            # Extract mode, a model too small to write from sources, or nothing the model
            # should read: the sentence or row that answers, if the gate finds one does.
            yield from self._instead(answer, question, found, "no_match", started)
            return
        if stop():
            return
        yield from self._generate(answer, question, relevant, found, started, patience)

    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        for event in self.stream(question, history):
            if isinstance(event, Done):
                return event.answer
        raise AssertionError("the chain always ends with Done")

    # -- steps -------------------------------------------------------------------------
    def _search(
        self, query: Query, question: Query, follows: Query | None, patience: _Patience
    ) -> tuple[list[Hit], list[Hit]]:
        """The passages found for the (standalone) question, best first, for the extract; and
        the relevant ones among the first `passages` of each search, for the model to read."""
        passages, rrf_k = self.settings.passages, self.knowledge.fusion.rrf_k
        found, relevant = self._hits(query)
        if follows is not None:
            # The message alone as well: "and on Saturday?" after a Chinese question is
            # answered from the English opening hours, which the two together do not find.
            alone, also = self._hits(question)
            found = _merged(found, alone, rrf_k)[: self.found_k]
            relevant = _merged(relevant, also, rrf_k)[:passages]
        if self._searches_in_english(query):
            english = self._in_english(query.text, patience)
            if english is not None:
                translated, also = self._hits(query.searching(english, QueryLanguage.ENGLISH))
                found = _merged(found, translated, rrf_k)[: self.found_k]
                relevant = _merged(relevant, also, rrf_k)[:passages]
        if also_words := other_words(question.text):
            # The same concepts in the documents' other languages, for the extract:
            # "星期六几点关门？" also searched as "saturday sabtu close tutup ...".
            glossed, _ = self._hits(question.searching(" ".join([question.text, *also_words])))
            found = _merged(found, glossed, rrf_k)[: self.found_k]
        return found, relevant

    def _hits(self, query: Query) -> tuple[list[Hit], list[Hit]]:
        """The first `found_k` passages for `query`, and the relevant ones among the first
        `passages` (what the model reads: passages about something else distract it)."""
        hits = self.knowledge.search(query, self.found_k)
        first = hits[: self.settings.passages]
        return hits, [h for h in first if is_relevant(query, h, self.relevance)]

    def _searches_in_english(self, query: Query) -> bool:
        """Whether a question in another language is also searched in English: the embedding
        model reads English well and little else, and keywords cannot cross languages, so a
        Malay or Chinese question otherwise never finds a shop's English-only FAQ entry."""
        return (
            self.translates
            and query.language is not QueryLanguage.ENGLISH
            and self.knowledge.holds_language(QueryLanguage.ENGLISH)
        )

    def _in_english(self, query: str, patience: _Patience) -> str | None:
        """The model's English translation of the question, or None when it gave none usable."""
        assert self.model is not None
        system, user = self.prompts.translate.render(question=query)
        english = _model_line(self._complete(system, user, "question translation", patience), query)
        # A model that cannot translate echoes the question or rambles: search with it alone.
        if not english or detect_language(english) != "en":
            return None
        return None if english.casefold() == query.casefold() else english

    def _complete(self, system: str, user: str, purpose: str, patience: _Patience) -> str:
        """A short completion for a step before the answer; "" when the model is unavailable,
        too slow, or nobody waits for it any more."""
        assert self.model is not None
        text = ""
        stream = _texts(self.model, system, user, _REWRITE_TOKENS)
        try:
            with closing(stream):  # an unfinished stream frees the model as soon as we leave
                for delta in without_thinking(stream):
                    if patience.stop() or patience.past_deadline():
                        log.warning("%s skipped: past its time or abandoned", purpose)
                        return ""
                    text += delta
        except ModelUnavailable as exc:
            log.warning("%s skipped: %s", purpose, exc)
            return ""
        return text

    def _follows(self, question: str, history: Sequence[Turn]) -> str:
        """The earlier question `question` follows up on, or "" when it stands on its own: a
        message that names its own subject is searched alone ("Adakah kedai buka pada hari
        Ahad?" glued to an English question before it found nothing)."""
        if not self.settings.history_turns or not history:
            return ""
        return standard_spelling(history[-1].question) if is_follow_up(question) else ""

    def _standalone(
        self, question: Question, history: Sequence[Turn], patience: _Patience
    ) -> Query:
        """The question made standalone with the conversation, for the search."""
        query, follows = question.query, question.follows
        if follows is None:
            return query
        both = query.searching(f"{follows.text} {query.text}")
        if self.model is None or not self.translates:
            # Extract mode, or a model too small to rewrite (the embedded one answers the
            # rewrite prompt with chatter): both questions together find the earlier subject.
            return both
        recent = list(history)[-self.settings.history_turns :]
        lines = "\n".join(f"Customer: {t.question}\nAssistant: {t.answer[:300]}" for t in recent)
        system, user = self.prompts.rewrite.render(history=lines, question=query.text)
        rewritten = _model_line(
            self._complete(system, user, "follow-up rewrite", patience), query.text
        )
        # A small model may ramble or switch language: then search with both questions instead.
        asked_in = detect_language(query.text, query.language)
        if not rewritten or detect_language(rewritten) != asked_in:
            return both
        return query.searching(rewritten)

    def _prompt(self, answer: Answer, hits: list[Hit]) -> tuple[str, str, list[Hit], int]:
        """System and user messages that fit the context window: weakest passages dropped first,
        the instructions never."""
        assert self.model is not None
        budget = context_window(self.model) - self.settings.max_answer_tokens
        kept = list(hits)
        # Sentences planted for a chatbot ("ignore previous instructions...") are not read.
        while True:
            context = "\n\n".join(
                f"[{i}] ({h.source}{f', page {h.page}' if h.page else ''}) "
                f"{h.section + chr(10) if h.section else ''}{without_instructions(h.text)}"
                for i, h in enumerate(kept, 1)
            )
            system, user = self.prompts.answer.render(
                business=self.profile.business,
                persona=self.profile.persona,
                language=LANGUAGE_NAMES.get(answer.language, "the customer's language"),
                context=context,
                question=answer.question,
            )
            tokens = prompt_tokens(self.model, _messages(system, user))
            if tokens <= budget:
                return system, user, kept, tokens
            if len(kept) > 1:
                kept.pop()
                continue
            # One passage alone is too long for the window: shorten it, keep its start.
            only = kept[0]
            keep_chars = max(200, int(len(only.text) * budget / tokens) - 100)
            if keep_chars >= len(only.text):
                return system, user, kept, tokens
            kept = [dataclasses.replace(only, text=only.text[:keep_chars])]

    def _generate(
        self,
        answer: Answer,
        question: Question,
        hits: list[Hit],
        found: list[Hit],
        started: float,
        patience: _Patience,
    ) -> Iterator[Event]:
        assert self.model is not None
        system, user, used, _ = self._prompt(answer, hits)
        answer.model = label(self.model)
        answer.prompt = self.prompts.answer.label
        answer.sources = [Source.of(h) for h in used]
        # In auto mode nothing reaches the customer before the guard has passed the whole
        # answer: a sentence shown and then taken back has been read (a wrong price on screen
        # for a second is a wrong price told). The typing indicator covers the wait.
        guarded = self.settings.mode == "auto"
        guard = StreamGuard(
            SourceFacts(((h.section, h.text) for h in used), answer.question), answer.language
        )
        shown = ""  # generate mode: what is already on screen
        checking = 0.0  # seconds spent in the guard, for timings_ms["guard"]
        deltas = _texts(self.model, system, user, self.settings.max_answer_tokens)
        timed_out = False
        try:
            with closing(deltas):  # leaving early (stopped, withheld) frees the model at once
                for delta in without_thinking(deltas):
                    if patience.stop():
                        return  # the customer has gone: nobody to answer
                    if patience.past_deadline():
                        timed_out = True
                        break
                    if "first_token" not in answer.timings_ms:
                        answer.timings_ms["first_token"] = _ms(started)
                    if guarded:
                        began = time.perf_counter()
                        guard.feed(delta)
                        checking += time.perf_counter() - began
                        if not guard.verdict.ok or guard.complete:
                            break  # stop paying for an answer that will not be shown or is over
                        continue
                    text = delta if shown else delta.lstrip()
                    if text:
                        shown += text
                        yield Delta(text)
        except ModelUnavailable as exc:
            log.warning("model failed, extracting instead: %s", exc)
            answer.guard_reason = "model unavailable"
            yield from self._instead(answer, question, found, "model_error", started, shown)
            return
        if timed_out:
            log.warning("the model took over %ss; extracting", self.settings.max_generation_s)
            answer.guard_reason = "past max_generation_s"
            yield from self._instead(answer, question, found, "timeout", started, shown)
            return
        if guarded:
            began = time.perf_counter()
            verdict = guard.finish()
            answer.timings_ms["guard"] = (checking + time.perf_counter() - began) * 1000
            if not verdict.ok:
                log.info("guard withheld an answer: %s", verdict.reason)
                answer.guard_reason = verdict.reason
                yield from self._instead(answer, question, found, "guard", started)
                return
            shown = guard.text.strip()
            answer.timings_ms["shown"] = _ms(started)
            yield Delta(shown)
        elif not shown.strip():
            yield from self._instead(answer, question, found, "guard", started, shown)
            return
        answer.text = shown.strip()
        answer.answered = True
        answer.kind = "model"
        answer.timings_ms["total"] = _ms(started)
        yield Done(answer)

    def _closeness(self, question: str, texts: list[str]) -> list[float]:
        """Cosine of the question to each text, by the knowledge base's embedding model."""
        first, *rest = self.knowledge.embedder.embed_documents([question, *texts])
        return [sum(a * b for a, b in zip(first, vector, strict=True)) for vector in rest]

    def _instead(
        self,
        answer: Answer,
        question: Question,
        hits: list[Hit],
        reason: Fallback,
        started: float,
        shown: str = "",
    ) -> Iterator[Event]:
        """The extract that answers the question, when the model's answer is not given (extract
        mode, withheld, unreachable, too slow); "I don't know" with the contact when no
        sentence or row answers it confidently."""
        began = time.perf_counter()
        found = extract(
            question.query,
            hits,
            answer.language,
            also=question.follows,
            closeness=self._closeness,
            gate=self.gate,
        )
        answer.timings_ms["extract"] = _ms(began)
        if found is not None:
            answer.gate_features = found.features
        if found is None or not found.confident:
            answer.sources = []
            text = self._offline(answer.language) if reason == "model_error" else None
            yield from self._finish(
                answer, text or self._no_answer(answer.language), reason, started, shown
            )
            return
        answer.answered = True
        answer.kind = "extract"
        answer.sources = [source := Source.of(found.hit)]
        intro = self.prompts.messages.get(answer.language, "quote", source=source.place())
        yield from self._finish(answer, f"{intro}\n{found.text}", None, started, shown)

    def _each_part(
        self, answer: Answer, question: Question, parts: list[str], patience: _Patience
    ) -> str | None:
        """The extracts that answer each part of a message that asks several questions, under
        their documents' names; None unless every part is answered confidently (then the
        message is answered as one question: half an answer shown as the answer misleads)."""
        # By passage: two parts answered by one row show it once, the longer of the two.
        answered: dict[str, tuple[Source, str]] = {}
        # Each part in the customer's language, read as the whole message was.
        asked = [question.query.searching(part) for part in parts]
        leans_on = question.follows
        for number, part in enumerate(asked):
            # A later part that names no subject of its own ("... and do I get it back?",
            # "how long does it take?") is read with the first, as a follow-up is; the extract
            # then wants its answer to keep the first part's subject ("free ke?" is not
            # answered by "A 5th lesson in the month is free").
            if number:
                leans_on = asked[0] if is_follow_up(part.text) else None
            query = part.searching(f"{leans_on.text} {part.text}") if leans_on else part
            found, relevant = self._search(query, part, leans_on, patience)
            hits = found if self.gate.judges_all_found else relevant
            if not hits:
                return None
            got = extract(
                part,
                hits,
                answer.language,
                also=leans_on,
                closeness=self._closeness,
                gate=self.gate,
            )
            if got is None or not got.confident:
                return None
            source = Source.of(got.hit)
            earlier = answered.get(got.hit.chunk_id)
            if earlier is None or len(got.text) > len(earlier[1]):
                intro = self.prompts.messages.get(answer.language, "quote", source=source.place())
                answered[got.hit.chunk_id] = (source, f"{intro}\n{got.text}")
        answer.answered = True
        answer.kind = "extract"
        answer.sources = [source for source, _ in answered.values()]
        return "\n\n".join(text for _, text in answered.values())

    # -- fallbacks ---------------------------------------------------------------------
    def _contact(self, language: str) -> str:
        return self.prompts.messages.contact(language, self.profile.contact_text(language))

    def _offline(self, language: str) -> str:
        return self.prompts.messages.get(language, "offline", contact=self._contact(language))

    def _small_talk(self, talk: SmallTalk, language: str) -> str:
        messages = self.prompts.messages
        if talk is SmallTalk.PERSON:
            contact = self.profile.contact_text(language)
            if not contact:
                return messages.get(language, "person_unavailable")
            return messages.get(language, "person_reply", contact=contact)
        if talk is SmallTalk.BOT:
            return messages.get(language, "bot_reply", contact=self._contact(language))
        return messages.get(language, f"{talk.value}_reply")

    def _no_answer(self, language: str) -> str:
        return self._say(language, "no_answer")

    def _say(self, language: str, key: str) -> str:
        """A canned message, with the business's contact where it has a place for it."""
        return self.prompts.messages.get(language, key, contact=self._contact(language))

    def _finish(
        self,
        answer: Answer,
        text: str,
        fallback: Fallback | None,
        started: float,
        shown: str = "",
    ) -> Iterator[Event]:
        """End with `text`: after it, if something else was already `shown`, replacing that."""
        answer.text = text
        answer.fallback = fallback
        answer.timings_ms.setdefault("first_token", _ms(started))
        answer.timings_ms["shown"] = answer.timings_ms["total"] = _ms(started)
        yield Replace(text) if shown else Delta(text)
        yield Done(answer)
