"""Follow-up questions rewritten into standalone ones from the conversation, without an LLM:
a question that leans on earlier turns (a pronoun, or too few words of its own) carries the named
entities of the previous user question."""

from __future__ import annotations

import re
from typing import Sequence

from rag.models import Turn

_REFERRING = re.compile(r"\b(he|she|they|them|him|her|his|their|theirs|it|its|this|that|these|those|"
                        r"there|then|the two|both|the same)\b", re.IGNORECASE)
_ENTITY = re.compile(r"\b(?:[A-Z][\w'’-]*|\d[\d,.]*)(?:\s+(?:[A-Z][\w'’-]*|of|de|al|von|van))*")
_QUESTION_WORDS = {"Who", "What", "When", "Where", "Why", "How", "Which", "Did", "Does", "Do", "Is", "Are",
                   "Was", "Were", "Can", "Could", "Will", "Would", "Tell", "And", "The", "A", "An", "In",
                   "On", "At", "I"}


def entities(text: str) -> list[str]:
    found = []
    for match in _ENTITY.finditer(text):
        words = match.group().split()
        while words and words[0] in _QUESTION_WORDS:
            words.pop(0)
        while words and words[-1] in {"of", "de", "al", "von", "van"}:
            words.pop()
        if words and " ".join(words) not in found:
            found.append(" ".join(words))
    return found


def standalone_question(question: str, history: Sequence[Turn]) -> str:
    previous = next((t.content for t in reversed(history) if t.role == "user"), None)
    if not previous:
        return question
    own = entities(question)
    leans_on_history = bool(_REFERRING.search(question)) or (not own and len(question.split()) <= 6)
    if not leans_on_history:
        return question
    carried = [e for e in entities(previous) if e.lower() not in question.lower()]
    return f"{question} ({', '.join(carried)})" if carried else question
