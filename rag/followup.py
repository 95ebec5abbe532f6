"""Follow-up questions rewritten into standalone ones from the conversation, without an LLM.

A question that leans on earlier turns (a pronoun, or too few words of its own) carries the names the previous
user question uses (found by spaCy: rag.analysis.Analyzer.names). A singular pronoun ("he", "its", "there") is
replaced by what it most likely stands for: the name of the previous question's subject, else the answer to
that question (a follow-up's pronoun often points at what was just answered: "Which country hosted the
minister?" - "What role has it played?"), else another name it used, of the pronoun's kind (a person for "he",
a place for "there") and not already named in the follow-up."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from rag.models import Turn

_REFERRING = re.compile(r"\b(he|she|they|them|him|her|his|their|theirs|it|its|this|that|these|those|"
                        r"there|then|the two|both|the same)\b", re.IGNORECASE)
# the singular pronouns a name can replace, and the kind of thing each stands for
_SINGULAR = re.compile(r"\b(?:(in|at|to|from)\s+)?(he|she|him|his|her|it|its|there)\b", re.IGNORECASE)
_KIND = {"he": "person", "she": "person", "him": "person", "his": "person", "her": "person", "it": "thing",
         "its": "thing", "there": "place"}
# "there" and "it" standing for nothing: "Is there a plan?", "there were 40", "How long did it take?"
_EMPTY = re.compile(r"(?:\b(?:is|are|was|were|be)\s+(there)\b|\b(there)\s+(?:is|are|was|were|will|has|have|had|may|"
                    r"might|could|would|must|seems?)\b|\b(it)\s+(?:takes?|took|seems?|seemed)\b)", re.IGNORECASE)
# "her" before a word that is no preposition or conjunction owns it ("her counterpart", not "met her in")
_OWNS = re.compile(r"\s+(?!(?:to|in|on|at|for|with|about|from|by|and|or|as|after|before)\b)[A-Za-z]")


@dataclass(frozen=True)
class Antecedent:
    text: str
    kinds: frozenset[str]  # "person", "thing", "place"


def kinds_of(label: str) -> frozenset[str]:
    """The pronouns' kinds an entity type can stand for."""
    if label == "PERSON":
        return frozenset({"person"})
    if label in ("GPE", "LOC", "FAC"):
        return frozenset({"place", "thing"})
    if label in ("ORG", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"):
        return frozenset({"thing"})
    return frozenset()


def standalone_question(question: str, history: Sequence[Turn], names: Callable[[str], list[str]],
                        antecedents: Callable[[str, Sequence[Turn]], Iterable[Antecedent]] | None = None) -> str:
    """names: the names a text uses, in order (rag.analysis.Analyzer.names, by spaCy). antecedents: (the
    previous user question, the turns before it) -> what a pronoun may stand for, the likeliest first (read
    only as far as the first that fits)."""
    at = next((i for i in range(len(history) - 1, -1, -1) if history[i].role == "user"), None)
    if at is None:
        return question
    previous = history[at].content
    own = names(question)
    leans_on_history = bool(_REFERRING.search(question)) or (not own and len(question.split()) <= 6)
    if not leans_on_history:
        return question
    carried = [e for e in names(previous) if e.lower() not in question.lower()]
    empty = {e.start(g) for e in _EMPTY.finditer(question) for g in (1, 2, 3) if e.group(g)}
    pronoun = next((m for m in _SINGULAR.finditer(question) if m.start(2) not in empty), None)
    if pronoun is not None and antecedents is not None:
        named = {w.lower() for name in own for w in name.split()}
        kind = _KIND[pronoun.group(2).lower()]
        referent = next((a for a in antecedents(previous, history[:at]) if kind in a.kinds
                         and not named & {w.lower() for w in a.text.split()}), None)
        if referent is not None:
            question = question[:pronoun.start()] + _replaced(question, pronoun, referent.text) + \
                question[pronoun.end():]
            carried = [e for e in carried if e.lower() not in question.lower()]
    return f"{question} ({', '.join(carried)})" if carried else question


def _replaced(question: str, pronoun: re.Match, name: str) -> str:
    """The name in the pronoun's place: "X's" for "his", "its" and "her" before a noun; "in X" for "there"."""
    preposition, word = pronoun.group(1), pronoun.group(2).lower()
    before = f"{preposition} " if preposition else ""
    if word in ("his", "its") or (word == "her" and _OWNS.match(question, pronoun.end())):
        return f"{before}{name}'s"
    if word == "there":
        return f"{preposition or 'in'} {name}"
    return before + name
