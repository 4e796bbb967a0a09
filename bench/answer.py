"""Answer quality on two small businesses' packs, answer latency, and 10 customers at once.

0. The answer packs (bench/answer_quality.py), per language: right answers, facts shown, wrong
   answers shown, out-of-scope fallbacks, median answer length, time to first shown text and
   total, and what retrieval and extraction take; with the embedded default, the embedded model
   asked to write answers, and the Ollama stub as a model that answers from its context and as
   one that gets the figures wrong. Targets on the embedded default: right >= 90%, wrong shown 0,
   out-of-scope fallbacks >= 90%, median <= 200 characters.
1. In-process, per question: time to first token and total for our chain, beside the bare model
   answering the same prompt (the baseline, same run). What we add on top of the model
   (retrieval, prompt, guard) is our total minus the time spent inside the model. Target: < 150 ms.
2. `chatbot serve` on a free loopback port, 10 customers asking at once on the chat API: all must
   be answered; p50/p95 latency, beside one customer alone (same run).

    python -m bench.answer
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import answer_quality
from bench.common import quiet_libraries, table

QUESTIONS = [
    "How much does an iPhone battery replacement cost?",
    "What are your opening hours?",
    "Do you deliver to Seberang Perai?",
    "Can I return an opened phone case?",
    "Berapa lama tempoh waranti untuk pembaikan?",
    "Adakah kedai buka pada hari Ahad?",
    "你们星期天营业吗？",
    "维修有保修吗？",
    "Do you sell laptops?",
    "What is the capital of France?",
]


def timed_model(base: Any) -> Any:
    """A copy of the embedded model that adds up the time spent inside it."""
    from chatbot.llm.llamacpp import LlamaCppChatModel

    class TimedModel(LlamaCppChatModel):
        model_s: float = 0.0

        def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
            # Only the time spent getting each next piece from the model counts, not the time
            # the chain spends on a piece before asking for the next one.
            pieces = super()._stream(*args, **kwargs)
            while True:
                started = time.perf_counter()
                try:
                    piece = next(pieces)
                except StopIteration:
                    self.model_s += time.perf_counter() - started
                    return
                self.model_s += time.perf_counter() - started
                yield piece

    fields = {name: getattr(base, name) for name in ("model_path", "n_ctx", "n_threads", "wait_s")}
    return TimedModel(**fields, temperature=base.temperature)


def forget_prompt_cache(model: Any) -> None:
    """llama.cpp reuses the evaluated prefix of the previous prompt; each measured answer must
    start cold, or whichever of the two runs comes second looks faster."""
    model.llama.reset()


def quality(data: Path) -> tuple[list[list[str]], list[str]]:
    """Every pack asked of every kind of answerer: the score rows, and each wrong answer."""
    from chatbot.services import Services
    from chatbot.settings import load_settings
    from tests.ollama_stub import OllamaStub

    rows: list[list[str]] = []
    wrong: list[str] = []

    def measure(label: str, before: Callable[[Any], None] | None = None, **settings: Any) -> None:
        loaded = load_settings(data_dir=data)
        for section, values in settings.items():
            for key, value in values.items():
                setattr(getattr(loaded, section), key, value)
        services = Services(loaded)
        try:
            outcomes = []
            for bot in answer_quality.PACKS:
                services.warm_up(bot)
                outcomes += answer_quality.run(services.answerer(bot), bot, before)
        finally:
            services.close()
        rows.extend(answer_quality.score_rows(label, outcomes))
        wrong.extend(f"{label}:{line}" for line in answer_quality.wrong_lines(outcomes))

    measure("embedded (default)", model={"backend": "llamacpp"})
    measure(
        "embedded, model writes",
        model={"backend": "llamacpp"},
        answering={"model_answers": "yes"},
    )
    with OllamaStub() as stub:
        ollama = {"backend": "ollama", "ollama_host": stub.url}
        for label, oracle in (
            ("Ollama stub, right answers", answer_quality.Oracle()),
            ("Ollama stub, wrong figures", answer_quality.Oracle(wrong_figures=True)),
        ):
            stub.state.responder = oracle
            measure(label, oracle.before, model=ollama)
    return rows, wrong


def in_process(data: Path) -> list[list[str]]:
    from langchain_core.messages import HumanMessage, SystemMessage

    from chatbot.answering.chain import Answerer
    from chatbot.services import Services
    from chatbot.settings import load_settings

    services = Services(load_settings(data_dir=data))
    services.settings.model.backend = "llamacpp"
    services.settings.answering.model_answers = "yes"  # the model's part is what is timed
    services.warm_up("demo-shop")
    timed = timed_model(services.chat_model)
    base = services.answerer("demo-shop")
    answerer = Answerer(
        knowledge=base.knowledge,
        model=timed,
        prompts=base.prompts,
        profile=base.profile,
        settings=base.settings,
    )
    rows = []
    overheads = []
    for question in QUESTIONS:
        # Baseline: the bare model on the prompt our chain would build, no retrieval, no guard.
        hits = answerer.knowledge.search(question, answerer.settings.passages)
        bare_first = bare_total = float("nan")
        if hits:
            from chatbot.answering.language import detect_language
            from chatbot.answering.result import Answer

            system, user, _, _tokens = answerer._prompt(
                Answer(question=question, language=detect_language(question)), hits
            )
            forget_prompt_cache(timed)
            started = time.perf_counter()
            messages = [SystemMessage(content=system), HumanMessage(content=user)]
            for n, _piece in enumerate(
                timed.stream(messages, max_tokens=answerer.settings.max_answer_tokens)
            ):
                if n == 0:
                    bare_first = (time.perf_counter() - started) * 1000
            bare_total = (time.perf_counter() - started) * 1000
        timed.model_s = 0.0
        forget_prompt_cache(timed)
        started = time.perf_counter()
        answer = answerer.answer(question)
        total = (time.perf_counter() - started) * 1000
        overhead = total - timed.model_s * 1000
        overheads.append(overhead)
        rows.append(
            [
                question[:38],
                f"{bare_first:.0f}",
                f"{bare_total:.0f}",
                f"{answer.timings_ms.get('first_token', 0):.0f}",
                f"{total:.0f}",
                f"{overhead:.0f}",
                "yes" if answer.answered else (answer.fallback or "-"),
            ]
        )
    rows.append(["median", "", "", "", "", f"{statistics.median(overheads):.0f}", ""])
    services.close()
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def concurrent(data: Path, customers: int = 10) -> list[list[str]]:
    import httpx

    port = free_port()
    # Each customer comes from an address of their own, as on the web: the server is told to
    # believe X-Forwarded-For from loopback, as it would behind a reverse proxy.
    env = {
        **os.environ,
        "CHATBOT_MODEL__BACKEND": "llamacpp",
        "CHATBOT_SERVER__TRUSTED_PROXIES": '["127.0.0.1/32"]',
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "chatbot", "--data-dir", str(data), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)

        version = httpx.get(f"{url}/api/bots/demo-shop/profile").json()["privacy"]["version"]

        def chat(question: str, out: list[tuple[float, bool]], visitor: int = 1) -> None:
            """One customer's question over the chat API, timed until the answer is complete;
            the customer first agrees to the privacy notice, as the chat page has them do."""
            headers = {"X-Forwarded-For": f"198.51.100.{visitor}"}
            agreed = httpx.post(
                f"{url}/api/bots/demo-shop/consent",
                json={"notice_version": version, "keep": False},
                headers=headers,
            )
            conversation = agreed.json()["conversation_id"]
            started = time.perf_counter()
            answered = False
            with httpx.stream(
                "POST",
                f"{url}/api/bots/demo-shop/chat",
                json={"message": question, "conversation_id": conversation},
                headers=headers,
                timeout=300,
            ) as response:
                for line in response.iter_lines():
                    if line.startswith("data: ") and '"answer"' in line:
                        answered = bool(json.loads(line[6:])["answer"].strip())
            out.append((time.perf_counter() - started, answered))

        alone: list[tuple[float, bool]] = []
        chat(QUESTIONS[0], alone)
        together: list[tuple[float, bool]] = []
        threads = [
            threading.Thread(target=chat, args=(QUESTIONS[i % len(QUESTIONS)], together, i + 2))
            for i in range(customers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        times = sorted(s for s, _ in together)
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        return [
            ["1 customer alone", "1/1" if alone[0][1] else "0/1", f"{alone[0][0]:.1f}", "", ""],
            [
                f"{customers} customers at once",
                f"{sum(ok for _, ok in together)}/{customers}",
                f"{statistics.median(times):.1f}",
                f"{p95:.1f}",
                f"{times[-1]:.1f}",
            ],
        ]
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    quiet_libraries()
    with tempfile.TemporaryDirectory() as tmp:
        data = answer_quality.pack_data(Path(tmp))
        scores, wrong = quality(data)
        print("Answers on the demo shop and the aircon shop (chatbot/demo, examples/aircon-shop)")
        print(table(answer_quality.HEADERS, scores))
        print("targets, embedded default: right >= 90%, wrong shown 0, out-of-scope fallbacks")
        print(">= 90%, median <= 200 characters")
        print("\n".join(wrong) or "no wrong answer shown")
        print()
        rows = in_process(data)
        print(
            "Answer latency, embedded SmolLM2-135M-Instruct (ms); the bare model on the same prompt"
        )
        print(
            table(
                [
                    "question",
                    "model first",
                    "model total",
                    "ours first",
                    "ours total",
                    "added by us",
                    "answered",
                ],
                rows,
            )
        )
        print(
            "target: added by us (retrieval, prompt, guard; total minus time in the model) < 150 ms"
        )
        print()
        print("chatbot serve, customers on the chat API (seconds)")
        print(table(["load", "answered", "p50 s", "p95 s", "max s"], concurrent(data)))


if __name__ == "__main__":
    main()
