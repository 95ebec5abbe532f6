"""Plain dataclasses passed between modules (llama-index and Chroma types stay inside their modules), the events
of an answer as it is made (Passages, Token…, then the Answer) and the Answerer protocol that streams them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Generator, Protocol, Sequence


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    body: str
    date: str | None = None  # ISO YYYY-MM-DD
    source: str | None = None
    url: str | None = None
    origin: str = ""  # file the article was read from
    content_hash: str = ""

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "date": self.date, "source": self.source,
                "url": self.url, "body": self.body}


@dataclass(frozen=True)
class Chunk:
    """A passage of an article; body[start:end] == text."""

    article_id: str
    index: int
    text: str
    start: int
    end: int
    section: str = ""  # the heading the passage stands under
    sentences: tuple = ()  # its rag.analysis.SentenceAnalysis, offsets into the article body


@dataclass(frozen=True)
class Passage:
    passage_id: str
    article_id: str
    title: str
    text: str
    start: int
    end: int
    date: str | None = None
    source: str | None = None
    url: str | None = None
    section: str | None = None  # the section heading the passage stands under
    score: float = 0.0
    rank: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    n: int
    passage: Passage
    highlights: tuple[tuple[int, int], ...] = ()  # offsets relative to passage.text

    def to_dict(self) -> dict:
        data = self.passage.to_dict()
        data.pop("score")
        data.pop("rank")
        return {"n": self.n, **data,
                "highlights": [{"start": s, "end": e} for s, e in self.highlights]}


@dataclass(frozen=True)
class Filters:
    date_from: str | None = None
    date_to: str | None = None
    sources: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.date_from or self.date_to or self.sources)


@dataclass(frozen=True)
class ShortAnswer:
    """The span that answers the question, and where it stands (None for an answer from metadata)."""

    text: str
    passage_id: str
    article_id: str
    start: int | None  # offsets in the article body
    end: int | None
    passage_start: int | None  # offsets in the passage text
    passage_end: int | None
    confidence: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    question: str
    answer: str
    answered: bool
    answerer: str
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str | None = None
    notice: str | None = None
    check: dict | None = None  # generated answers: what the citation checker kept and removed (rag/check.py)
    short_answer: ShortAnswer | None = None

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "short_answer": self.short_answer.to_dict() if self.short_answer else None,
            "answer": self.answer,
            "answered": self.answered,
            "answerer": self.answerer,
            "notice": self.notice,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "check": self.check,
        }


@dataclass(frozen=True)
class Passages:  # the first event of an answer: what was retrieved
    passages: list[Passage]


@dataclass(frozen=True)
class Token:  # a piece of the answer's text as it is written: an LLM's unchecked token, or an extracted sentence
    text: str


Event = Passages | Token | Answer  # the Answer, finished (checked, cited, timed), is the last


def drained(events: Generator[Event, None, Answer]) -> Answer:
    """What a stream of events returns once it has run to its end."""
    try:
        while True:
            next(events)
    except StopIteration as end:
        return end.value


class Answerer(Protocol):
    name: str

    def stream(self, question: str, passages: list[Passage]) -> Generator[Token, None, Answer]:
        """The answer's text as it is written; returns the finished Answer."""

    def rewrite(self, question: str, history: Sequence[Turn], answer_of: Callable | None = None) -> str:
        """A follow-up question made standalone with the history's help; answer_of: (a question, the turns
        before it) -> answer_findings for it, so that a pronoun may stand for what was answered."""

    def answer_findings(self, question: str, passages: list[Passage]) -> Any:
        """The extractive findings (rag.answer.Findings) when they answer the question, else None."""


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    passages_written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_dict(self) -> dict:
        return {"added": len(self.added), "updated": len(self.updated), "removed": len(self.removed),
                "unchanged": self.unchanged, "passages_written": self.passages_written,
                "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
                "seconds": round(self.seconds, 2)}
