"""Passages -> a short extractive Answer whose every sentence carries [n] markers.

No LLM: the sentences of the retrieved passages are scored against the question (embedding similarity,
weighted word overlap, a small bonus when a sentence holds the kind of fact the question asks for),
near-duplicates are merged (their citations are kept together on one sentence), and the best few
are joined. When no sentence is relevant enough the answer says the corpus does not hold it, with no
citations.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from rag.chunking import sentence_spans
from rag.embedding import Embedder
from rag.followup import entities
from rag.models import Answer, Citation, Passage

NOT_FOUND = "The corpus does not hold an answer to this question."
NO_PASSAGES = "No article in the corpus matches this question and its filters."

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_STOPWORDS = set("""
a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
now of off on once only or other our ours out over own same she should so some such than that the their
theirs them themselves then there these they this those through to too under until up very was we were
what when where which while who whom whose why will with would you your yours tell please according
article articles corpus news say says said many much kind sort give show know does did
""".split())
_MONTHS = ("january february march april may june july august september october november december "
           "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday "
           "saturday sunday today yesterday tomorrow week month year").split()
_DATE_PATTERN = re.compile(r"\b(1[89]\d\d|20\d\d)\b|\b(" + "|".join(_MONTHS) + r")\b", re.IGNORECASE)
_NUMBER_PATTERN = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                             r"dozen|hundred|thousand|million|billion|half)\b", re.IGNORECASE)
_NAME_PATTERN = re.compile(r"\b[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?(?:\s+[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?)+")
_TITLES = set("""
mr mrs ms dr prof sir president vice prime minister foreign deputy secretary general chief executive chairman
chairwoman chair director mayor governor senator ambassador commissioner spokesman spokeswoman king queen
prince princess lord judge justice minister's national state federal ministry department of the
""".split())


@dataclass
class Sentence:
    passage_index: int
    start: int  # relative to the passage text
    end: int
    text: str
    score: float = 0.0
    dense: float = 0.0
    lexical: float = 0.0
    vector: np.ndarray | None = None
    asks_about: float = 0.0  # share of the question's non-name words the sentence holds
    fits_type: bool = True  # holds the kind of fact the question asks for (a name, a number, a date…)
    extra: list["Sentence"] = field(default_factory=list)  # near-duplicates from other passages


def question_type(question: str) -> str | None:
    q = question.lower()
    if re.search(r"\bhow (many|much|long|far|big|large|old)\b|\bwhat (percentage|share|number|amount)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (date|day|year|month|time)\b", q):
        return "date"
    if re.search(r"\bwho(m|se)?\b", q):
        return "person"
    if re.search(r"\bwhere\b", q):
        return "place"
    return None


QUESTION_WORDS = Path(__file__).resolve().parent / "lexicon" / "question_words.txt"


class TermMatcher:
    """Stemmed content words, so 'ministers' matches 'minister'; and the words an article may use for a
    question's word ("who runs…" -> "chief executive"), from lexicon/question_words.txt."""

    def __init__(self, question_words: Path | None = QUESTION_WORDS):
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")
        self.alternatives: dict[str, frozenset[str]] = {}
        if question_words is not None:
            for line in question_words.read_text(encoding="utf-8").splitlines():
                word, colon, others = line.partition(":")
                if colon and not word.lstrip().startswith("#"):
                    stem = self._stemmer.stemWord(word.strip().lower())
                    said = self.alternatives.get(stem, frozenset()) | self.terms(others)
                    self.alternatives[stem] = said - {stem}

    def with_alternatives(self, question_terms, terms: set[str]) -> set[str]:
        """A sentence's terms plus the question terms it says in other words."""
        return terms | {t for t in question_terms
                        if t not in terms and not self.alternatives.get(t, frozenset()).isdisjoint(terms)}

    def terms(self, text: str) -> set[str]:
        words = [w.lower().strip("'’-") for w in _WORD.findall(text)]
        return set(self._stemmer.stemWords([w for w in words if w and w not in _STOPWORDS]))

    def weighted_terms(self, text: str, entity_weight: float = 0.5) -> dict[str, float]:
        """Question terms, weighted: names (capitalized past the first word) identify the story, which
        retrieval has already found; the other words say what is asked about it, so they weigh more."""
        weights: dict[str, float] = {}
        for position, word in enumerate(_WORD.findall(text)):
            lowered = word.lower().strip("'’-")
            if not lowered or lowered in _STOPWORDS:
                continue
            stem = self._stemmer.stemWord(lowered)
            weight = entity_weight if (position > 0 and word[0].isupper()) else 1.0
            weights[stem] = max(weights.get(stem, 0.0), weight)
        return weights


def _overlap(weights: dict[str, float], terms: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in terms) / total if total else 0.0


def _local_idf(weights: dict[str, float], sentence_terms: list[set[str]]) -> dict[str, float]:
    """Question-term weights times their rarity among the candidate sentences: a term every sentence
    shares (the story's topic) says little; one that few or none hold is what the question is about."""
    n = len(sentence_terms)
    return {t: w * math.log((n + 1) / (sum(t in terms for terms in sentence_terms) + 0.5))
            for t, w in weights.items()}


def _names(sentence: str, question_terms: set[str], matcher: "TermMatcher") -> list[str]:
    """Runs of two or more capitalized words that are neither titles nor already in the question."""
    found = []
    for run in _NAME_PATTERN.findall(sentence):
        words = [w for w in run.split() if w.lower().rstrip("'’s") not in _TITLES]
        new = [w for w in words if not matcher.terms(w) <= question_terms]
        if len(new) >= 2:
            found.append(" ".join(new))
    return found


def _type_bonus(kind: str | None, sentence: str, question_terms: set[str], matcher: "TermMatcher") -> float:
    if kind == "number":
        return 0.08 if _NUMBER_PATTERN.search(sentence) else 0.0
    if kind == "date":
        return 0.08 if _DATE_PATTERN.search(sentence) else 0.0
    if kind == "person":
        return 0.1 if _names(sentence, question_terms, matcher) else 0.0
    if kind == "place":
        return 0.08 if re.search(r"\b(in|at|to|from|near)\s+(the\s+)?[A-Z]", sentence) else 0.0
    return 0.0


_CARRIED = re.compile(r"\s*\([^()]*\)\s*$")  # rag.followup appends "(Name, Name)" to a follow-up


def question_names(question: str) -> list[str]:
    """The names a question uses, as their capitalized words: not its first word ("Roughly how many…"), not
    months or weekdays, not the lowercase half of "CBS-affiliated", not two-letter abbreviations (TV, U.S.)
    that articles often spell out, not the names rag.followup carried over in parentheses."""
    question = _CARRIED.sub("", question)  # names a follow-up carried from earlier turns are guesses
    first = question.split(maxsplit=1)[0] if question.split() else ""
    names = []
    for name in entities(question):
        words = name.split()
        if question.startswith(name) or words[0] == first:
            words = words[1:]
        kept = [w for w in re.split(r"[\s-]+", " ".join(words))
                if w[:1].isupper() and w.lower().rstrip("'’s") not in _MONTHS
                and not (w.replace(".", "").isupper() and len(w.replace(".", "")) <= 2)]
        if kept:
            names.append(" ".join(kept))
    return names


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, embedder: Embedder, *, max_sentences: int = 3, min_score: float = 0.45,
                 dense_weight: float = 0.7, margin: float = 0.12, close_meaning: float = 0.5,
                 embed_all: bool = False, article_text: Callable[[str], str | None] | None = None):
        """embed_all: embed every sentence of the passages, not only those sharing a word with the question
        (a sentence without one can never lead an answer; bench/answer_stage.py measures both).
        article_text: article id -> its title and body; with it, an answer only quotes articles that name
        everything the question names (see named_in)."""
        self.embedder = embedder
        self.embed_all = embed_all
        self.article_text = article_text
        self._terms_cache: dict[tuple[str, str], frozenset[str]] = {}  # (article id, content hash) -> terms
        self._terms_lock = threading.Lock()
        self.max_sentences = max_sentences
        self.min_score = min_score
        self.dense_weight = dense_weight
        self.margin = margin
        self.close_meaning = close_meaning
        self.matcher = TermMatcher()

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        if not passages:
            return Answer(question=question, answer=NO_PASSAGES, answered=False, answerer=self.name)
        sentences = self.scored_sentences(question, passages)
        if self.article_text is not None:
            naming = self.articles_naming(question, passages)
            sentences = [s for s in sentences if passages[s.passage_index].article_id in naming]
        chosen = self.select(sentences)
        if not chosen:
            return Answer(question=question, answer=NOT_FOUND, answered=False, answerer=self.name,
                          passages=passages)
        text, citations = compose(chosen, passages)
        return Answer(question=question, answer=text, answered=True, answerer=self.name,
                      citations=citations, passages=passages)

    def articles_naming(self, question: str, passages: list[Passage]) -> set[str]:
        """Ids of the retrieved articles that hold every word of every name in the question ("Bank of
        Portugal", "Nigeria"): on a large corpus some sentence about a neighbouring story (the Bank of
        Italy, Ghana and Iran) always scores well, and only the names tell that it answers another question."""
        names = [terms for terms in map(self.matcher.terms, question_names(question)) if terms]
        ids = {p.article_id for p in passages}
        if not names:
            return ids
        versions = {p.article_id: p.passage_id.rsplit("::", 1)[-1] for p in passages}  # content hash
        return {article_id for article_id in ids
                if all(name <= self._article_terms(article_id, versions[article_id]) for name in names)}

    def _article_terms(self, article_id: str, version: str) -> frozenset[str]:
        key = (article_id, version)
        with self._terms_lock:
            cached = self._terms_cache.get(key)
        if cached is None:
            text = self.article_text(article_id)
            cached = frozenset(self.matcher.terms(text) if text is not None else ())
            with self._terms_lock:  # server threads share the answerer
                self._terms_cache[key] = cached
                while len(self._terms_cache) > 4096:
                    self._terms_cache.pop(next(iter(self._terms_cache)))
        return cached

    def scored_sentences(self, question: str, passages: list[Passage]) -> list[Sentence]:
        sentences = [Sentence(i, s, e, " ".join(p.text[s:e].split()))
                     for i, p in enumerate(passages) for s, e in sentence_spans(p.text)]
        sentences = [s for s in sentences if len(s.text.split()) >= 4]
        question_weights = self.matcher.weighted_terms(question)
        all_terms = [self.matcher.with_alternatives(question_weights, self.matcher.terms(s.text))
                     for s in sentences]
        focus = {t for t, w in question_weights.items() if w == 1.0}
        weights = _local_idf(question_weights, all_terms)
        if not self.embed_all:  # embedding is most of the cost: skip sentences that share no question word
            kept = [i for i, terms in enumerate(all_terms) if any(t in terms for t in weights)]
            sentences, all_terms = [sentences[i] for i in kept], [all_terms[i] for i in kept]
        if not sentences:
            return []
        vectors = self.embedder.embed_cached([s.text for s in sentences])
        question_vector = self.embedder.embed_query(question)
        dense = vectors @ question_vector
        kind = question_type(question)
        for sentence, similarity, vector, terms in zip(sentences, dense, vectors, all_terms):
            sentence.vector = vector
            sentence.dense = float(similarity)
            sentence.lexical = _overlap(weights, terms)
            sentence.asks_about = len(focus & terms) / len(focus) if focus else 1.0
            bonus = _type_bonus(kind, sentence.text, set(weights), self.matcher)
            sentence.fits_type = kind is None or bonus > 0
            sentence.score = (self.dense_weight * sentence.dense + (1 - self.dense_weight) * sentence.lexical
                              + bonus + 0.03 / (1 + sentence.passage_index))
        return sorted(sentences, key=lambda s: -s.score)

    def select(self, ranked: list[Sentence]) -> list[Sentence]:
        """The best sentences within a margin of the top one, near-duplicates folded together; after the
        first, only sentences that hold the kind of fact asked for (a name for "who"…). The answer leads
        with the best sentence that answers (see _answers) within the margin: the top sentence may only
        restate the story the question names."""
        chosen: list[Sentence] = []
        if not ranked:
            return chosen
        floor = max(self.min_score, ranked[0].score - self.margin)
        lead = next((i for i, s in enumerate(ranked) if s.score >= floor and self._answers(s)), None)
        if lead is None:
            return chosen
        for sentence in [ranked[lead], *ranked[:lead], *ranked[lead + 1:]]:
            if sentence.score < floor:
                break
            twin = next((c for c in chosen if self._near_duplicate(c, sentence)), None)
            if twin is not None:
                twin.extra.append(sentence)
            elif len(chosen) < self.max_sentences and (not chosen or sentence.fits_type):
                chosen.append(sentence)
        return chosen

    def _answers(self, best: Sentence) -> bool:
        """Relevant enough, shares words with the question, and — unless its meaning is close — holds
        at least one word of what is asked (not only the names the question mentions)."""
        if best.score < self.min_score or best.lexical == 0.0:
            return False
        return best.asks_about > 0 or best.dense >= self.close_meaning

    def _near_duplicate(self, a: Sentence, b: Sentence) -> bool:
        cosine = float(a.vector @ b.vector)
        ta, tb = self.matcher.terms(a.text), self.matcher.terms(b.text)
        jaccard = len(ta & tb) / len(ta | tb) if ta | tb else 1.0
        return cosine >= 0.9 or jaccard >= 0.6


def compose(chosen: list[Sentence], passages: list[Passage]) -> tuple[str, list[Citation]]:
    """Answer text with [n] markers, and citations numbered in order of first use."""
    numbers: dict[int, int] = {}
    highlights: dict[int, list[tuple[int, int]]] = {}
    parts = []
    for sentence in chosen:
        markers = []
        for source in [sentence, *sentence.extra]:
            n = numbers.setdefault(source.passage_index, len(numbers) + 1)
            spans = highlights.setdefault(source.passage_index, [])
            if (source.start, source.end) not in spans:
                spans.append((source.start, source.end))
            if n not in markers:
                markers.append(n)
        parts.append(sentence.text + " " + "".join(f"[{n}]" for n in sorted(markers)))
    citations = [Citation(n=n, passage=passages[index], highlights=tuple(sorted(highlights[index])))
                 for index, n in sorted(numbers.items(), key=lambda item: item[1])]
    return " ".join(parts), citations
