"""Follow-up questions rewritten into standalone ones from the conversation, without an LLM:
a question that leans on earlier turns (a pronoun, or too few words of its own) carries the names the
previous user question uses (found by spaCy: rag.analysis.Analyzer.names)."""

from __future__ import annotations

import re
from typing import Callable, Sequence

from rag.models import Turn

_REFERRING = re.compile(r"\b(he|she|they|them|him|her|his|their|theirs|it|its|this|that|these|those|"
                        r"there|then|the two|both|the same)\b", re.IGNORECASE)


def standalone_question(question: str, history: Sequence[Turn], names: Callable[[str], list[str]]) -> str:
    """names: the names a text uses, in order (rag.analysis.Analyzer.names, by spaCy)."""
    previous = next((t.content for t in reversed(history) if t.role == "user"), None)
    if not previous:
        return question
    own = names(question)
    leans_on_history = bool(_REFERRING.search(question)) or (not own and len(question.split()) <= 6)
    if not leans_on_history:
        return question
    carried = [e for e in names(previous) if e.lower() not in question.lower()]
    return f"{question} ({', '.join(carried)})" if carried else question
