"""The citation checker: a generated answer keeps only the sentences its cited passages support.

Every sentence of a generated answer is checked before the answer is returned:
- markers that point at no retrieved passage ([n] outside 1..len(passages)) are dropped;
- a sentence with markers is kept when one of its cited passages supports it: a mix of embedding
  similarity (the sentence against the passage's best-matching sentence) and the share of the sentence's
  content words that the passage holds; a number the passage (and the question) does not hold makes the
  sentence unsupported whatever the score;
- a sentence without any marker is kept only when one passage supports it clearly (ATTRIBUTE_MIN), and
  then cites that passage; or when it only says that the passages do not hold the answer (a refusal: the
  answer then has answered=False and no citations).
Citations are renumbered in order of use; their highlights are the passage sentences that support the
kept answer sentences. When no sentence survives (and the model did not refuse), the caller falls back
to the extractive answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from rag.analysis import Analyzer
from rag.answer import stem
from rag.chunking import sentence_spans
from rag.embedding import Embedder
from rag.models import Citation, Passage

# Support = DENSE_WEIGHT * cosine(answer sentence, best passage sentence)
#         + (1 - DENSE_WEIGHT) * share of the sentence's content words that the passage holds, counting only
#           words the question does not hold (restating the question proves nothing).
# Measured on the fixture corpus (tests/test_llm_checks.py): sentences copied or paraphrased from their
# passage score 0.7-1.0 ("Clara Ventis is the mayor" 0.71, "She met Kellan, the foreign minister of
# Serevia" 0.71); invented ones 0.2-0.5 ("…met Prime Minister Tomas Reyl in Halvik" 0.48, "The strike was
# called by the teachers' union over school closures" 0.49, "The mayor of Merrowick is John Smith" 0.18).
# A near-copy with one changed number scores high, which is why numbers are checked apart.
DENSE_WEIGHT = 0.5
SUPPORT_MIN = 0.6
# A sentence the model wrote without any marker is attributed to the passage that supports it best only at
# this stricter level (the model did not say where it came from, so the bar is higher).
ATTRIBUTE_MIN = 0.7
# Passage sentences whose similarity to a kept answer sentence is within this of the best one are
# highlighted with it (an answer sentence often merges two neighbouring passage sentences).
HIGHLIGHT_MARGIN = 0.05

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_MARKERS_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_REFUSAL = re.compile(
    r"\b(passages?|corpus|articles?|sources?|context|texts?|documents?)\b.*\b(do(es)?\s*n[o']t|did\s*n[o']t|"
    r"never|no)\b.*\b(say|mention|contain|hold|include|provide|state|answer|information|tell|specify)"
    r"|\bno (information|mention|answer)\b|\b(i|we) (do not|don't|cannot|can't) (know|tell|say|answer)\b"
    r"|\bnot (mentioned|stated|specified|given|provided)\b", re.IGNORECASE)


@dataclass
class Judged:
    """One sentence of the generated answer and the verdict on it."""

    text: str  # without markers
    markers: list[int]  # valid ones, 1-based, as the model wrote them
    dropped_markers: list[int] = field(default_factory=list)
    refusal: bool = False
    support: float = 0.0
    supported_by: list[int] = field(default_factory=list)  # 0-based passage indexes
    highlights: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    reason: str = ""  # why it was removed; empty when kept
    attributed: bool = False  # written without a marker; the checker found the passage that supports it

    @property
    def kept(self) -> bool:
        return not self.reason


@dataclass
class CheckResult:
    sentences: list[Judged]
    text: str
    citations: list[Citation]
    answered: bool

    @property
    def removed(self) -> list[Judged]:
        return [s for s in self.sentences if not s.kept]

    @property
    def empty(self) -> bool:
        """Nothing supported and no refusal: the caller should fall back."""
        return not self.citations and not any(s.refusal for s in self.sentences if s.kept)

    def to_dict(self) -> dict:
        return {"kept": sum(s.kept and not s.refusal for s in self.sentences),
                "attributed": sum(s.kept and s.attributed for s in self.sentences),
                "removed": [{"sentence": s.text, "reason": s.reason} for s in self.removed],
                "dropped_markers": sorted({n for s in self.sentences for n in s.dropped_markers})}


def is_refusal(sentence: str) -> bool:
    return bool(_REFUSAL.search(sentence)) and not _NUMBER.search(sentence)


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, marker numbers in order) for each sentence of a generated answer.
    Markers written after the full stop ("… in May. [2]") belong to the sentence before it."""
    text = _MARKERS_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", " ".join(text.split()))
    pieces = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        numbers = [int(n) for group in _MARKER.findall(sentence) for n in re.split(r"[,;]", group)]
        clean = " ".join(_MARKER.sub(" ", sentence).split())
        clean = re.sub(r"\s+([.,;:!?])", r"\1", clean)
        if re.search(r"\w", clean):
            pieces.append((clean, list(dict.fromkeys(numbers))))
    return pieces


class CitationChecker:
    def __init__(self, embedder: Embedder, analyzer: Analyzer, *, support_min: float = SUPPORT_MIN,
                 dense_weight: float = DENSE_WEIGHT):
        self.embedder = embedder
        self.analyzer = analyzer
        self.support_min = support_min
        self.dense_weight = dense_weight

    def terms(self, text: str) -> set[str]:
        """The stems of the content words' lemmas of a text (spaCy, as at ingest)."""
        return {stem(t) for t in self.terms_raw(text)}

    def terms_raw(self, text: str) -> set[str]:
        return {t for sentence in self.analyzer.articles([text])[0] for t in sentence.terms}

    def check(self, question: str, generated: str, passages: list[Passage]) -> CheckResult:
        judged = [self.judge(text, markers, question, passages) for text, markers in split_answer(generated)]
        return self.compose(judged, passages)

    def judge(self, text: str, markers: list[int], question: str, passages: list[Passage]) -> Judged:
        valid = [n for n in markers if 1 <= n <= len(passages)]
        sentence = Judged(text, valid, dropped_markers=[n for n in markers if n not in valid])
        if not valid:
            sentence.refusal = is_refusal(text)
            if sentence.refusal:
                return sentence
            if not markers and self.attribute(sentence, question, passages):
                return sentence
            sentence.reason = "cites no retrieved passage" if markers else "cites no passage"
            if not markers:
                sentence.reason += f" and none supports it well enough (best {sentence.support:.2f} < {ATTRIBUTE_MIN})"
            return sentence
        for n in valid:
            score, spans = self.support(text, question, passages[n - 1])
            sentence.support = max(sentence.support, score)
            if score >= self.support_min:
                sentence.supported_by.append(n - 1)
                sentence.highlights[n - 1] = spans
        if not sentence.supported_by:
            cited = ", ".join(f"[{n}]" for n in valid)
            sentence.reason = f"not supported by {cited} (support {sentence.support:.2f} < {self.support_min})"
        return sentence

    def attribute(self, sentence: Judged, question: str, passages: list[Passage]) -> bool:
        """A sentence the model left uncited is kept, with a marker, when one passage that names everything it
        names supports it clearly (ATTRIBUTE_MIN, stricter than for a cited one): small models often state a
        fact without [n], and as often join names from two stories ("the mayor of Merrowick is the Mayor of
        Ostmere")."""
        if len(self.terms(sentence.text) - self.terms(question)) < 2:
            return False  # it adds at most one word to the question ("The mayor is the town's mayor.")
        names = self.analyzer.question(sentence.text).name_terms  # every name it uses: the passage must hold them
        holding = [i for i, p in enumerate(passages) if names <= self.terms_raw(f"{p.title}\n{p.text}")]
        if not holding:
            return False
        scored = [(*self.support(sentence.text, question, passages[i]), i) for i in holding]
        score, spans, index = max(scored, key=lambda item: item[0])
        sentence.support = score
        if score < ATTRIBUTE_MIN:
            return False
        sentence.supported_by, sentence.highlights, sentence.attributed = [index], {index: spans}, True
        return True

    def support(self, sentence: str, question: str, passage: Passage) -> tuple[float, list[tuple[int, int]]]:
        """(support score, spans of the passage sentences that match best); 0 when the sentence holds a
        number that neither the passage nor the question holds."""
        analyzed = self.analyzer.articles([passage.text])[0]  # spaCy once: the sentences and their terms
        spans = [(s.start, s.end) for s in analyzed] or [(0, len(passage.text))]
        texts = [" ".join(passage.text[s:e].split()) for s, e in spans]
        vectors = self.embedder.embed_cached([sentence, *texts])
        similarity = vectors[1:] @ vectors[0]
        best = float(similarity.max())
        terms = self.terms(sentence) - self.terms(question)
        held = {stem(t) for s in analyzed for t in s.terms}
        overlap = len(terms & held) / len(terms) if terms else 1.0
        score = self.dense_weight * best + (1 - self.dense_weight) * overlap
        if _new_numbers(sentence, passage.text + " " + question):
            score = 0.0
        chosen = [spans[i] for i in np.flatnonzero(similarity >= best - HIGHLIGHT_MARGIN)]
        return score, chosen

    def compose(self, judged: list[Judged], passages: list[Passage]) -> CheckResult:
        """The kept sentences with markers renumbered in order of use, and their citations."""
        numbers: dict[int, int] = {}
        highlights: dict[int, set[tuple[int, int]]] = {}
        parts = []
        for sentence in judged:
            if not sentence.kept:
                continue
            for index in sentence.supported_by:
                numbers.setdefault(index, len(numbers) + 1)
                highlights.setdefault(index, set()).update(sentence.highlights[index])
            markers = "".join(f"[{numbers[i]}]" for i in sentence.supported_by)
            parts.append(f"{sentence.text} {markers}".strip())
        citations = [Citation(n=n, passage=passages[i], highlights=tuple(sorted(highlights[i])))
                     for i, n in sorted(numbers.items(), key=lambda item: item[1])]
        return CheckResult(judged, " ".join(parts), citations, answered=bool(citations))


def _new_numbers(sentence: str, source: str) -> list[str]:
    """Numbers in the sentence that the source text does not hold (1,000 and 1000 count as the same)."""
    known = {n.replace(",", "") for n in _NUMBER.findall(source)}
    return [n for n in _NUMBER.findall(sentence) if n.replace(",", "").rstrip(".") not in known]

