"""Question -> ranked passages: dense similarity from Chroma and BM25 keyword scores, fused by weighted
reciprocal rank, with filters by date range and source applied to both."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace

import numpy as np

from rag.embedding import Embedder
from rag.models import Filters, Passage
from rag.store import Store, date_number

log = logging.getLogger(__name__)


def _import_bm25s():
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on itself when imported
    return bm25s


def build_tokenizer():
    import Stemmer

    bm25s = _import_bm25s()

    return bm25s.tokenization.Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english"))


class KeywordIndex:
    """BM25 over every passage (title + text), with per-passage arrays for filtering in memory."""

    def __init__(self, passages: list[Passage]):
        bm25s = _import_bm25s()
        self.passages = passages
        self.tokenizer = build_tokenizer()
        self.dates = np.array([date_number(p.date) for p in passages], dtype=np.int64)
        self.sources = np.array([p.source or "" for p in passages], dtype=object)
        self.bm25 = None
        if passages:
            texts = [f"{p.title}\n{p.text}" for p in passages]
            ids = self.tokenizer.tokenize(texts, return_as="ids", show_progress=False)
            self.bm25 = bm25s.BM25()
            self.bm25.index(ids, show_progress=False)

    def search(self, question: str, k: int, filters: Filters | None) -> list[Passage]:
        if self.bm25 is None:
            return []
        query = self.tokenizer.tokenize([question], update_vocab=False, return_as="ids", show_progress=False)
        tokens = [t for t in query[0] if t != 0] if query else []
        if not tokens:
            return []
        scores = self.bm25.get_scores(tokens)
        scores = np.where(self._mask(filters), scores, 0.0)
        top = np.argsort(-scores, kind="stable")[:k]
        return [replace(self.passages[i], score=float(scores[i])) for i in top if scores[i] > 0]

    def _mask(self, filters: Filters | None) -> np.ndarray:
        mask = np.ones(len(self.passages), dtype=bool)
        if filters is None or filters.is_empty():
            return mask
        if filters.date_from or filters.date_to:
            mask &= self.dates > 0
        if filters.date_from:
            mask &= self.dates >= date_number(filters.date_from)
        if filters.date_to:
            mask &= self.dates <= date_number(filters.date_to)
        if filters.sources:
            mask &= np.isin(self.sources, list(filters.sources))
        return mask


@dataclass
class Retrieval:
    passages: list[Passage]
    dense: list[Passage]
    keyword: list[Passage]
    timings_ms: dict[str, float]


class HybridRetriever:
    def __init__(self, store: Store, embedder: Embedder, *, candidates: int = 40, rrf_k: int = 60,
                 keyword_weight: float = 1.0, refresh_seconds: float = 2.0):
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.keyword_weight = keyword_weight
        self.refresh_seconds = refresh_seconds
        self._keyword: KeywordIndex | None = None
        self._generation: str | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def keyword_index(self) -> KeywordIndex:
        """The BM25 index, rebuilt when an ingestion (in any process) changed the store."""
        now = time.monotonic()
        if self._keyword is not None and now - self._checked < self.refresh_seconds:
            return self._keyword
        with self._lock:
            generation = self.store.generation()
            self._checked = time.monotonic()
            if self._keyword is None or generation != self._generation:
                started = time.perf_counter()
                self._keyword = KeywordIndex(list(self.store.all_passages()))
                self._generation = generation
                log.info("keyword index: %d passages in %.1fs", len(self._keyword.passages),
                         time.perf_counter() - started)
            return self._keyword

    def retrieve(self, question: str, top_k: int, filters: Filters | None = None) -> Retrieval:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        vector = self.embedder.embed_query(question)
        timings["embed"] = _ms_since(started)
        started = time.perf_counter()
        dense = self.store.dense_search(vector, self.candidates, filters)
        timings["dense"] = _ms_since(started)
        started = time.perf_counter()
        keyword = self.keyword_index().search(question, self.candidates, filters)
        timings["keyword"] = _ms_since(started)
        started = time.perf_counter()
        fused = fuse(dense, keyword, self.rrf_k, self.keyword_weight)[:top_k]
        timings["fusion"] = _ms_since(started)
        return Retrieval(fused, dense, keyword, timings)


def fuse(dense: list[Passage], keyword: list[Passage], rrf_k: int, keyword_weight: float) -> list[Passage]:
    """Weighted reciprocal-rank fusion; ties keep the dense order."""
    scores: dict[str, float] = {}
    by_id: dict[str, Passage] = {}
    for weight, ranking in ((1.0, dense), (keyword_weight, keyword)):
        for rank, passage in enumerate(ranking, start=1):
            scores[passage.passage_id] = scores.get(passage.passage_id, 0.0) + weight / (rrf_k + rank)
            by_id.setdefault(passage.passage_id, passage)
    ordered = sorted(scores, key=lambda pid: -scores[pid])
    return [replace(by_id[pid], score=round(scores[pid], 6), rank=rank)
            for rank, pid in enumerate(ordered, start=1)]


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
