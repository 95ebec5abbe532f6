"""Question sets: JSONL files, one question a line, validated with errors that name the file and line.

    {"id": "q01", "question": "...", "answers": ["accepted", "answers"], "docs": ["article-id"],
     "unanswerable": false, "type": "who", "history": ["an earlier question of the same chat"]}

`history` (optional) holds the user's earlier questions, oldest first, for a follow-up that needs them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import RagError

FIELDS = ("id", "question", "answers", "docs", "unanswerable", "type", "history")


class QuestionSetError(RagError):
    status = 400
    code = "bad_question_set"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    docs: tuple[str, ...]
    unanswerable: bool = False
    type: str | None = None
    history: tuple[str, ...] = ()  # earlier user questions of the same conversation
    line: int = 0

    def to_dict(self) -> dict:
        return {"id": self.id, "question": self.question, "answers": list(self.answers),
                "docs": list(self.docs), "unanswerable": self.unanswerable, "type": self.type,
                **({"history": list(self.history)} if self.history else {})}


def load_questions(path: str | Path, limit: int | None = None) -> list[Question]:
    """Every question of a JSONL set (blank lines skipped), or the first `limit` of them; the whole file is
    validated either way. QuestionSetError names the line and the field at fault."""
    path = Path(path)
    if limit is not None and limit < 1:
        raise QuestionSetError(f"the question limit must be at least 1, got {limit}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionSetError(f"question set not found: {path}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise QuestionSetError(f"cannot read question set {path}: {exc}") from None
    questions = questions_from_lines(text.splitlines(), str(path))
    return questions[:limit] if limit is not None else questions


def questions_from_lines(lines: list[str], name: str = "<questions>") -> list[Question]:
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        question = question_from_line(line, number, name)
        if question.id in seen:
            raise QuestionSetError(f"{name} line {number}: id {question.id!r} is already used on line "
                                   f"{seen[question.id]}")
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise QuestionSetError(f"{name} holds no questions")
    return questions


def question_from_line(line: str, number: int, name: str = "<questions>") -> Question:
    where = f"{name} line {number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise QuestionSetError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise QuestionSetError(f"{where}: expected a JSON object, got {type(record).__name__}")
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        raise QuestionSetError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}")
    return _validated(record, where, number)


def _validated(record: dict, where: str, number: int) -> Question:
    unanswerable = record.get("unanswerable", False)
    if not isinstance(unanswerable, bool):
        raise QuestionSetError(f"{where}: 'unanswerable' must be true or false, got {unanswerable!r}")
    answers = _strings(record, "answers", where)
    docs = _strings(record, "docs", where)
    if unanswerable and answers:
        raise QuestionSetError(f"{where}: an unanswerable question must have no 'answers'")
    if not unanswerable and not answers:
        raise QuestionSetError(f"{where}: 'answers' needs at least one accepted answer "
                               f"(or set \"unanswerable\": true)")
    if not unanswerable and not docs:
        raise QuestionSetError(f"{where}: 'docs' needs the id of at least one article holding the answer")
    kind = record.get("type")
    if kind is not None and (not isinstance(kind, str) or not kind.strip()):
        raise QuestionSetError(f"{where}: 'type' must be a non-empty string when present")
    return Question(id=_text(record, "id", where), question=_text(record, "question", where),
                    answers=answers, docs=docs, unanswerable=unanswerable,
                    type=kind.strip() if kind else None, history=_strings(record, "history", where), line=number)


def _text(record: dict, key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise QuestionSetError(f"{where}: '{key}' must be a non-empty string, got {_shown(value)}")
    return value.strip()


def _strings(record: dict, key: str, where: str) -> tuple[str, ...]:
    value = record.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise QuestionSetError(f"{where}: '{key}' must be a list of non-empty strings, got {_shown(value)}")
    return tuple(v.strip() for v in value)


def _shown(value: Any) -> str:
    return "nothing" if value is None else repr(value)[:60]
