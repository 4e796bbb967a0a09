"""Every answer the bot gives, with what produced it: sources, model, prompt name and version.

Kept in SQLite in the data directory so staff can review what the bot told customers and why.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from chatbot.answering.result import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY,
    bot TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    answered INTEGER NOT NULL,
    fallback TEXT,
    guard_reason TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL,
    sources TEXT NOT NULL,
    model TEXT,
    prompt TEXT,
    timings TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_conversation ON answers (conversation_id, id);
"""


def new_conversation_id() -> str:
    return uuid.uuid4().hex


class ConversationLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def record(self, bot: str, conversation_id: str, answer: Answer) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO answers (bot, conversation_id, created_at, question, answer,"
                " answered, fallback, guard_reason, language, sources, model, prompt, timings)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    bot,
                    conversation_id,
                    time.time(),
                    answer.question,
                    answer.text,
                    int(answer.answered),
                    answer.fallback,
                    answer.guard_reason,
                    answer.language,
                    json.dumps([s.as_json() for s in answer.sources], ensure_ascii=False),
                    answer.model,
                    answer.prompt,
                    json.dumps(answer.timings_ms),
                ),
            )

    def answers(self, conversation_id: str) -> list[dict[str, object]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT question, answer, answered, fallback, model, prompt, sources"
                " FROM answers WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        return [
            {
                "question": q,
                "answer": a,
                "answered": bool(ok),
                "fallback": fb,
                "model": m,
                "prompt": p,
                "sources": json.loads(s),
            }
            for q, a, ok, fb, m, p, s in rows
        ]

    def turns(self, bot: str, conversation_id: str) -> list[tuple[str, str]]:
        """(question, answer) of each turn of one bot's conversation, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT question, answer FROM answers WHERE bot = ? AND conversation_id = ?"
                " ORDER BY id",
                (bot, conversation_id),
            ).fetchall()
        return [(q, a) for q, a in rows]

    def transcript(self, bot: str, conversation_id: str) -> list[dict[str, object]]:
        """What the customer saw of a conversation: questions, answers and their sources."""
        with self._lock:
            rows = self._db.execute(
                "SELECT question, answer, answered, language, sources FROM answers"
                " WHERE bot = ? AND conversation_id = ? ORDER BY id",
                (bot, conversation_id),
            ).fetchall()
        return [
            {
                "question": q,
                "answer": a,
                "answered": bool(ok),
                "language": lang,
                "sources": json.loads(s),
            }
            for q, a, ok, lang, s in rows
        ]

    def delete_bot(self, bot: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM answers WHERE bot = ?", (bot,))

    def close(self) -> None:
        self._db.close()
