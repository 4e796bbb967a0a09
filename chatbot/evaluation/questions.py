"""Test questions: what a customer asks (one message, or the turns of a conversation), the facts
a right answer holds (any of several spellings), the document it should come from, whether the
documents answer it at all, and its language. Read from and written to JSONL and CSV; a bad
line is refused with its line and field named."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.errors import KnowledgeError

CSV_FIELDS = ("question", "turns", "expect", "source", "answerable", "language")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}


class QuestionsError(KnowledgeError):
    """A questions file that cannot be used; the message names the line and the field."""


@dataclass(frozen=True, slots=True)
class TestQuestion:
    __test__ = False  # not a pytest test class, for all its name

    turns: tuple[str, ...]  # the last is the question scored; the others come before it
    expect: tuple[str, ...]  # any of these in the answer makes it right
    source: str | None  # the document a right answer comes from (None: any)
    answerable: bool  # False: the documents do not answer it, and the bot should say so
    language: str

    @property
    def question(self) -> str:
        return self.turns[-1]

    def as_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"turns": list(self.turns)} if len(self.turns) > 1 else {}
        if len(self.turns) == 1:
            row["question"] = self.turns[0]
        return row | {
            "expect": list(self.expect),
            "source": self.source,
            "answerable": self.answerable,
            "language": self.language,
        }


def _question(row: dict[str, Any], where: str) -> TestQuestion:
    def refuse(field: str, why: str) -> QuestionsError:
        return QuestionsError(f"{where}: field {field!r} {why}")

    turns = row.get("turns")
    if turns is None:
        question = row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise refuse("question", "must be the customer's question (or give 'turns')")
        turns = [question]
    if not (
        isinstance(turns, list) and turns and all(isinstance(t, str) and t.strip() for t in turns)
    ):
        raise refuse("turns", "must be a list of the customer's messages")
    answerable = row.get("answerable", True)
    if not isinstance(answerable, bool):
        raise refuse("answerable", "must be true or false")
    expect = row.get("expect", [])
    if isinstance(expect, str):
        expect = [expect]
    if not isinstance(expect, list) or not all(isinstance(e, str) and e.strip() for e in expect):
        raise refuse("expect", "must be a list of the facts a right answer holds")
    if answerable and not expect:
        raise refuse("expect", "is empty: say what a right answer holds, or answerable: false")
    source = row.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise refuse("source", "must be a document's file name")
    language = row.get("language", "en")
    if not isinstance(language, str) or not 2 <= len(language) <= 8:
        raise refuse("language", "must be a language code such as en, ms or zh")
    unknown = set(row) - set(CSV_FIELDS)
    if unknown:
        raise QuestionsError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return TestQuestion(
        tuple(t.strip() for t in turns),
        tuple(e.strip() for e in expect),
        source.strip() if source else None,
        answerable,
        language,
    )


def parse_jsonl(text: str, name: str = "questions") -> list[TestQuestion]:
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise QuestionsError(f"{name} line {number}: not JSON ({exc.args[0]})") from exc
        if not isinstance(row, dict):
            raise QuestionsError(f"{name} line {number}: not a JSON object")
        out.append(_question(row, f"{name} line {number}"))
    return out


def parse_csv(text: str, name: str = "questions") -> list[TestQuestion]:
    """Columns: question (or turns, the messages separated by ' || '), expect (the facts
    separated by '|'), source, answerable (true/false), language."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"expect"} - set(reader.fieldnames or [])
    if missing or not {"question", "turns"} & set(reader.fieldnames or []):
        raise QuestionsError(f"{name}: needs the columns question (or turns) and expect")
    out = []
    for number, cells in enumerate(reader, 2):  # line 1 is the header
        where = f"{name} line {number}"
        row: dict[str, Any] = {}
        if cells.get("turns"):
            row["turns"] = [t.strip() for t in cells["turns"].split("||")]
        elif cells.get("question") is not None:
            row["question"] = cells["question"]
        row["expect"] = [e.strip() for e in (cells.get("expect") or "").split("|") if e.strip()]
        if cells.get("source"):
            row["source"] = cells["source"]
        answerable = (cells.get("answerable") or "true").strip().lower()
        if answerable not in _TRUE | _FALSE:
            raise QuestionsError(f"{where}: field 'answerable' must be true or false")
        row["answerable"] = answerable in _TRUE
        row["language"] = (cells.get("language") or "en").strip()
        out.append(_question(row, where))
    return out


def read_questions(path: Path) -> list[TestQuestion]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise QuestionsError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise QuestionsError(f"{path.name} is not UTF-8 text") from exc
    parse = parse_csv if path.suffix.lower() == ".csv" else parse_jsonl
    questions = parse(text, path.name)
    if not questions:
        raise QuestionsError(f"{path.name} holds no questions")
    return questions


def write_questions(path: Path, questions: list[TestQuestion]) -> None:
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for q in questions:
                writer.writerow(
                    {
                        "question": q.question if len(q.turns) == 1 else "",
                        "turns": " || ".join(q.turns) if len(q.turns) > 1 else "",
                        "expect": "|".join(q.expect),
                        "source": q.source or "",
                        "answerable": "true" if q.answerable else "false",
                        "language": q.language,
                    }
                )
        return
    lines = [json.dumps(q.as_json(), ensure_ascii=False) for q in questions]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
