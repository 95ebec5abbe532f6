"""Metrics as small pure functions over the named fields of a Sample (one asked question and its response).

Every per-question metric is a number, a bool or None when it does not apply (retrieval and answer metrics
on unanswerable questions, citation metrics on declined answers); `summarize` averages what applies.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from rag.chunking import sentence_spans

K_VALUES = (1, 4, 10)
_MARKER_GROUP = re.compile(r"(?:\s*\[\d+\])+")
_MARKER = re.compile(r"\[(\d+)\]")
_ARTICLES = {"a", "an", "the"}


@dataclass(frozen=True)
class CitedPassage:
    n: int
    passage_id: str
    article_id: str


@dataclass(frozen=True)
class Sample:
    """What one question asked and what came back; the fields every metric reads."""

    question_id: str
    question: str
    accepted: tuple[str, ...] = ()  # accepted answer strings
    gold_ids: tuple[str, ...] = ()  # articles that hold the evidence
    unanswerable: bool = False
    type: str | None = None
    answer: str = ""
    short_answer: str | None = None  # the answer's short span, when it gave one
    answered: bool = False
    ranked_ids: tuple[str, ...] = ()  # article ids of the retrieved passages, best first, no repeats
    retrieved_passage_ids: tuple[str, ...] = ()
    citations: tuple[CitedPassage, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None  # the ask failed (HTTP error, refused request…)


# --- retrieval ----------------------------------------------------------------------------------
def ranked_article_ids(article_ids: Iterable[str]) -> tuple[str, ...]:
    """Article ids of ranked passages with repeats removed, each at its first (best) rank."""
    return tuple(dict.fromkeys(article_ids))


def first_gold_rank(ranked_ids: Sequence[str], gold_ids: Iterable[str]) -> int | None:
    gold = set(gold_ids)
    return next((rank for rank, article in enumerate(ranked_ids, start=1) if article in gold), None)


def hit_at_k(ranked_ids: Sequence[str], gold_ids: Iterable[str], k: int) -> bool:
    rank = first_gold_rank(ranked_ids, gold_ids)
    return rank is not None and rank <= k


def mrr_at_k(ranked_ids: Sequence[str], gold_ids: Iterable[str], k: int) -> float:
    rank = first_gold_rank(ranked_ids, gold_ids)
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def recall_at_k(ranked_ids: Sequence[str], gold_ids: Iterable[str], k: int) -> float:
    """Share of the gold articles found in the top k."""
    gold = set(gold_ids)
    return len(gold & set(ranked_ids[:k])) / len(gold) if gold else 0.0


# --- answers ------------------------------------------------------------------------------------
def strip_markers(text: str) -> str:
    return _MARKER_GROUP.sub("", text)


def normalize_text(text: str) -> str:
    """Lower case, white space collapsed, citation markers removed."""
    return " ".join(strip_markers(text).lower().split())


def contains_answer(answer: str, accepted: str) -> bool:
    """The accepted string appears in the answer, case- and space-insensitive, not inside a longer word or
    number ("45" is not found in "1,450")."""
    needle = normalize_text(accepted)
    if not needle:
        return False
    pattern = r"(?<![a-z0-9])" + re.escape(needle) + r"(?![a-z0-9])"
    return re.search(pattern, normalize_text(answer)) is not None


def answer_accuracy(answer: str, accepted: Sequence[str]) -> bool:
    return any(contains_answer(answer, a) for a in accepted)


def answer_tokens(text: str) -> list[str]:
    """SQuAD-style tokens: lower case, punctuation and a/an/the removed."""
    text = strip_markers(text).lower()
    text = "".join(" " if ch in string.punctuation or ch in "“”‘’–—" else ch for ch in text)
    return [t for t in text.split() if t not in _ARTICLES]


def token_f1(answer: str, accepted: Sequence[str]) -> float:
    """Token F1 of the answer against the accepted answer it matches best."""
    return max((_f1(answer_tokens(answer), answer_tokens(a)) for a in accepted), default=0.0)


def exact_match(predicted: str | None, accepted: Sequence[str]) -> bool:
    """SQuAD's exact match: the normalized short answer equals a normalized accepted answer."""
    return predicted is not None and any(answer_tokens(predicted) == answer_tokens(a) for a in accepted)


def short_f1(predicted: str | None, accepted: Sequence[str]) -> float:
    """SQuAD's token F1 of the short answer (0 when there is none)."""
    return token_f1(predicted, accepted) if predicted else 0.0


def _f1(predicted: list[str], reference: list[str]) -> float:
    common = sum((Counter(predicted) & Counter(reference)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(reference)
    return 2 * precision * recall / (precision + recall)


# --- citations ----------------------------------------------------------------------------------
def answer_sentences(answer: str) -> list[tuple[str, tuple[int, ...]]]:
    """(sentence, markers at its end) for each sentence of the answer text. Markers sit after the full
    stop ("… in Halvik. [1][2] Next …"), so they are lifted out before splitting and put back on the
    sentence they close."""
    plain, closing, position = [], {}, 0
    for match in _MARKER_GROUP.finditer(answer):
        plain.append(answer[position:match.start()])
        closing[sum(map(len, plain))] = tuple(int(n) for n in _MARKER.findall(match.group()))
        position = match.end()
    plain.append(answer[position:])
    text = "".join(plain)
    return [(text[start:end], closing.get(end, ())) for start, end in sentence_spans(text)]


def cited_sentence_share(answer: str) -> float:
    """Share of the answer's sentences that end with [n] markers."""
    sentences = answer_sentences(answer)
    return sum(bool(markers) for _, markers in sentences) / len(sentences) if sentences else 0.0


def citations_point_at_retrieved(answer: str, citations: Sequence[CitedPassage],
                                 retrieved_passage_ids: Iterable[str]) -> bool:
    """Every [n] in the text has a citation, and every citation's passage was among the retrieved ones."""
    numbers = {int(n) for n in _MARKER.findall(answer)}
    retrieved = set(retrieved_passage_ids)
    return numbers <= {c.n for c in citations} and all(c.passage_id in retrieved for c in citations)


def cited_gold_count(citations: Sequence[CitedPassage], gold_ids: Iterable[str]) -> int:
    gold = set(gold_ids)
    return sum(c.article_id in gold for c in citations)


def citation_precision(citations: Sequence[CitedPassage], gold_ids: Iterable[str]) -> float | None:
    """Share of cited passages that come from a gold article; None without citations."""
    return cited_gold_count(citations, gold_ids) / len(citations) if citations else None


# --- refusals -----------------------------------------------------------------------------------
def correctly_declined(unanswerable: bool, answered: bool) -> bool | None:
    return (not answered) if unanswerable else None


def wrongly_declined(unanswerable: bool, answered: bool) -> bool | None:
    return None if unanswerable else not answered


# --- latency ------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- one question, then all of them ---------------------------------------------------------------
def score_sample(s: Sample) -> dict:
    """Every per-question metric of one sample (None where it does not apply)."""
    answerable = not s.unanswerable
    retrieval = answerable and bool(s.gold_ids)
    scores: dict = {"first_gold_rank": first_gold_rank(s.ranked_ids, s.gold_ids) if retrieval else None}
    for k in K_VALUES:
        scores[f"hit@{k}"] = hit_at_k(s.ranked_ids, s.gold_ids, k) if retrieval else None
    scores["mrr@10"] = mrr_at_k(s.ranked_ids, s.gold_ids, 10) if retrieval else None
    scores["recall@10"] = recall_at_k(s.ranked_ids, s.gold_ids, 10) if retrieval else None
    scores["all_gold@10"] = scores["recall@10"] == 1.0 if retrieval else None
    scores["accuracy"] = answer_accuracy(s.answer, s.accepted) if answerable else None
    scores["token_f1"] = token_f1(s.answer, s.accepted) if answerable else None
    short = s.short_answer if s.answered else None
    scores["short_em"] = exact_match(short, s.accepted) if answerable else None
    scores["short_f1"] = short_f1(short, s.accepted) if answerable else None
    scores.update(_citation_scores(s))
    scores["correctly_declined"] = correctly_declined(s.unanswerable, s.answered)
    scores["wrongly_declined"] = wrongly_declined(s.unanswerable, s.answered)
    scores["correct"] = bool(scores["correctly_declined"] if s.unanswerable else scores["accuracy"])
    scores["error"] = s.error is not None
    return scores


def _citation_scores(s: Sample) -> dict:
    if not s.answered:
        return {"citations_valid": None, "citation_precision": None, "cited_sentences": None,
                "n_citations": 0, "n_cited_gold": None, "n_sentences": 0, "n_cited_sentences": 0}
    sentences = answer_sentences(s.answer)
    with_gold = not s.unanswerable and bool(s.gold_ids)
    return {"citations_valid": citations_point_at_retrieved(s.answer, s.citations, s.retrieved_passage_ids),
            "citation_precision": citation_precision(s.citations, s.gold_ids) if with_gold else None,
            "cited_sentences": cited_sentence_share(s.answer),
            "n_citations": len(s.citations),
            "n_cited_gold": cited_gold_count(s.citations, s.gold_ids) if with_gold else None,
            "n_sentences": len(sentences),
            "n_cited_sentences": sum(bool(m) for _, m in sentences)}


MEAN_METRICS = ("hit@1", "hit@4", "hit@10", "mrr@10", "recall@10", "all_gold@10", "accuracy", "token_f1",
                "short_em", "short_f1", "citations_valid", "correctly_declined", "wrongly_declined", "correct")
RENAMED = {"correctly_declined": "refusal_accuracy", "wrongly_declined": "false_refusal_rate"}
LOWER_IS_BETTER = {"false_refusal_rate"}


def mean(values: Iterable[float | bool | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def summarize(samples: Sequence[Sample], scores: Sequence[dict]) -> dict:
    """Overall metrics: means over the questions each metric applies to; citation precision and the cited
    sentence share over all cited passages and all answer sentences."""
    overall: dict = {"questions": len(samples), "answerable": sum(not s.unanswerable for s in samples),
                     "unanswerable": sum(s.unanswerable for s in samples),
                     "errors": sum(bool(row["error"]) for row in scores)}
    for name in MEAN_METRICS:
        overall[RENAMED.get(name, name)] = mean(row[name] for row in scores)
    overall["citation_precision"] = _ratio(scores, "n_cited_gold", "n_citations", only_with="n_cited_gold")
    overall["cited_sentences"] = _ratio(scores, "n_cited_sentences", "n_sentences")
    return overall


def _ratio(scores: Sequence[dict], part: str, whole: str, only_with: str | None = None) -> float | None:
    rows = [row for row in scores if only_with is None or row[only_with] is not None]
    total = sum(row[whole] for row in rows)
    return sum(row[part] for row in rows) / total if total else None


STAGE_ORDER = ("embed", "dense", "keyword", "fusion", "retrieve", "answer", "total", "http")


def latency_summary(samples: Sequence[Sample]) -> dict[str, dict[str, float | None]]:
    """p50, p95 and mean per stage, in milliseconds, over the questions that reported the stage."""
    seen = dict.fromkeys(stage for s in samples for stage in s.timings_ms)
    stages = [s for s in STAGE_ORDER if s in seen] + [s for s in seen if s not in STAGE_ORDER]
    summary = {}
    for stage in stages:
        values = [s.timings_ms[stage] for s in samples if stage in s.timings_ms]
        summary[stage] = {"p50": percentile(values, 50), "p95": percentile(values, 95),
                          "mean": sum(values) / len(values), "n": len(values)}
    return summary
