"""Each bot's test questions as stored: in order, one JSON body a row (the JSONL line's fields),
read back through the same checks as a file."""

from __future__ import annotations

import json
import time

from sqlalchemy import Engine, delete, func, insert, select

from chatbot.evaluation.questions import TestQuestion, parse_jsonl
from chatbot.store.schema import test_questions


class TestQuestions:
    __test__ = False  # not a pytest test class, for all its name

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def all(self, bot: str) -> list[TestQuestion]:
        query = (
            select(test_questions.c.body)
            .where(test_questions.c.bot == bot)
            .order_by(test_questions.c.id)
        )
        with self._engine.connect() as db:
            lines = list(db.execute(query).scalars())
        return parse_jsonl("\n".join(lines), f"bot {bot}'s test questions")

    def count(self, bot: str) -> int:
        query = select(func.count()).where(test_questions.c.bot == bot)
        with self._engine.connect() as db:
            return int(db.execute(query).scalar_one())

    def add(self, bot: str, questions: list[TestQuestion], actor: str, *, replace: bool) -> int:
        """Store `questions` after the bot's others, or instead of them; one transaction."""
        rows = [
            {
                "bot": bot,
                "body": json.dumps(q.as_json(), ensure_ascii=False),
                "added_at": time.time(),
                "added_by": actor[:64],
            }
            for q in questions
        ]
        with self._engine.begin() as db:
            if replace:
                db.execute(delete(test_questions).where(test_questions.c.bot == bot))
            if rows:
                db.execute(insert(test_questions), rows)
        return len(rows)

    def forget_bot(self, bot: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(test_questions).where(test_questions.c.bot == bot))
