"""RagService: the one object the server, the CLI and the evaluation share. Built once by build_service."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Generator, Sequence

from rag.analysis import Analyzer
from rag.answer import ExtractiveAnswerer, notices, read_as
from rag.config import Settings
from rag.corpus import articles_from_records
from rag.embedding import Embedder
from rag.errors import BadRequest, IndexNotReady, NotFound, PayloadTooLarge, StoreUnavailable
from rag.ingest import Ingestor, lies_under
from rag.models import Answer, Answerer, Article, Event, Filters, IngestReport, Passages, Token, Turn, drained
from rag.retrieve import HybridRetriever, Retrieval
from rag.store import Store, StoredSentence, build_client

READY_PROBE = "news"  # what /api/ready searches for: a real query through the store

log = logging.getLogger(__name__)


class RagService:
    def __init__(self, settings: Settings, store: Store, embedder: Embedder, retriever: HybridRetriever,
                 answerer: Answerer, analyzer: Analyzer | None = None):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.analyzer = analyzer or Analyzer()  # spaCy, for ingestion
        self.retriever = retriever
        self.answerer = answerer
        self.rewriter = answerer.rewrite  # follow-up -> standalone question
        self._writes = threading.Lock()  # one write at a time; questions go on (the Store keeps them whole)

    # --- questions -----------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None,
            top_k: int | None = None) -> Answer:
        return drained(self.ask_stream(question, history, filters, top_k))

    def ask_stream(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None,
                   top_k: int | None = None) -> Generator[Event, None, Answer]:
        """Passages, Token…, the Answer; returns the Answer. Bad input and an empty index raise here, before the
        first event, so they still get a plain JSON error."""
        started = time.perf_counter()
        question, query, retrieval = self._retrieve(question, history, filters, top_k)
        return self._events(question, query, retrieval, started)

    def _events(self, question: str, query: str, retrieval: Retrieval,
                started: float) -> Generator[Event, None, Answer]:
        yield Passages(retrieval.passages)
        answer = yield from self._answer(question, query, retrieval, started)
        yield answer
        return answer

    def _retrieve(self, question, history, filters, top_k) -> tuple[str, str, Retrieval]:
        """The request's values arrive checked (server/request_models.py); top_k None: the settings' top_k."""
        top_k = top_k or self.settings.top_k
        query = self.standalone(question, history, filters, top_k)
        retrieval = self.retriever.retrieve(query, top_k, filters)
        if not retrieval.passages and self.store.is_empty():  # counted only then: a count takes 3 ms
            raise IndexNotReady("the index is empty: ingest articles first (newsrag ingest PATH)")
        return question, query, retrieval

    def standalone(self, question: str, history: Sequence[Turn], filters: Filters | None = None,
                   top_k: int | None = None) -> str:
        """The question made standalone from the conversation: what the service retrieves and answers with."""
        if not history:
            return question
        return self.rewriter(question, history, self._answer_of(filters, top_k or self.settings.top_k))

    def _answer_of(self, filters: Filters | None, top_k: int):
        """(an earlier question, the turns before it) -> what the extractive answerer finds for it, asked as
        then (its own follow-up made standalone by the names alone: one level deep)."""
        def answer_of(question: str, earlier: Sequence[Turn]):
            query = self.rewriter(question, earlier) if earlier else question
            return self.answerer.answer_findings(query, self.retriever.retrieve(query, top_k, filters).passages)
        return answer_of

    def _answer(self, question: str, query: str, retrieval: Retrieval,
                started: float) -> Generator[Token, None, Answer]:
        """The answerer's tokens; returns its Answer with the question, the query and the timings."""
        retrieved = time.perf_counter()
        query = retrieval.question or query  # respelled where it misspelled a word the passages hold
        answer = yield from self.answerer.stream(query, retrieval.passages)
        finished = time.perf_counter()
        answer.question = question
        answer.standalone_question = query
        answer.notice = notices(read_as(retrieval.respelled), answer.notice)
        answer.timings_ms = {**retrieval.timings_ms, **answer.timings_ms, "retrieve": (retrieved - started) * 1000,
                             "answer": (finished - retrieved) * 1000, "total": (finished - started) * 1000}
        return answer

    # --- corpus --------------------------------------------------------------------------------
    def ingest(self, paths: Sequence[str | Path], progress: bool = True, prune: bool = True) -> IngestReport:
        with self._writes:
            return self._written(self._ingestor().ingest(paths, progress, prune))

    def add_articles(self, records: Any) -> IngestReport:
        """Add or update articles sent as JSON records (one, or a list); BadRequest when none is usable."""
        loaded = articles_from_records(records, self.settings.max_article_bytes)
        if not loaded.articles:
            reasons = "; ".join(f"{where}: {reason}" for where, reason in loaded.skipped[:5])
            raise BadRequest(f"no usable article in the request ({reasons})")
        with self._writes:
            self.store.refresh()
            report = self._ingestor().ingest_articles(loaded.articles, IngestReport(skipped=loaded.skipped))
            return self._written(report)

    def remove_article(self, article_id: str) -> IngestReport:
        started = time.perf_counter()
        with self._writes:
            self.store.refresh()
            if not self._ingestor().remove_article(article_id):
                raise NotFound(f"no article with id {article_id!r}")
            report = IngestReport(removed=[article_id], seconds=time.perf_counter() - started)
            return self._written(report)

    def remove_articles(self, article_ids: Sequence[str]) -> IngestReport:
        """Remove these articles together; ids with no article are left out of the report's `removed`."""
        started = time.perf_counter()
        with self._writes:
            self.store.refresh()
            removed = self._ingestor().remove_articles(article_ids)
            return self._written(IngestReport(removed=removed, seconds=time.perf_counter() - started))

    def article_origins(self, under: Sequence[str], after: str, limit: int) -> dict:
        """A page of {id, origin} in id order, after `after` ("": from the first), of the articles whose origin
        lies under one of `under` (absolute paths; none: all); `next` is the cursor for the page after, or None."""
        roots = [Path(root) for root in under]
        chosen = sorted((i, s.origin) for i, s in self.store.article_states().items()
                        if i > after and (not roots or lies_under(Path(s.origin), roots)))
        page = [{"id": i, "origin": origin} for i, origin in chosen[:limit]]
        return {"articles": page, "next": page[-1]["id"] if len(chosen) > limit else None}

    def _ingestor(self) -> Ingestor:
        return Ingestor(self.store, self.embedder, self.analyzer, self.settings)

    def _written(self, report: IngestReport) -> IngestReport:
        if report.changed:
            self.retriever.keyword_index(force=True)  # rebuild (and save) now, not on the next question
        return report

    def article(self, article_id: str) -> Article:
        article = self.store.get_article(article_id)
        if article is None:
            raise NotFound(f"no article with id {article_id!r}")
        return article

    def sources(self) -> dict:
        counts: dict[str, int] = {}
        dates = []
        for meta in self.store.article_metadata():
            if meta.get("source"):
                counts[meta["source"]] = counts.get(meta["source"], 0) + 1
            if meta.get("date"):
                dates.append(meta["date"])
        return {"sources": [{"name": n, "articles": c} for n, c in sorted(counts.items())],
                "dates": {"min": min(dates, default=None), "max": max(dates, default=None)}}

    def health(self) -> dict:
        """What a load balancer needs: ready only while a search through the store finds a passage."""
        store = "http" if self.settings.chroma_host else "persistent"
        try:
            self.store.refresh()
            articles, passages = self.store.counts()
            found = passages > 0 and bool(self.store.dense_search(self.embedder.embed_query(READY_PROBE), 1, None))
        except Exception as exc:  # a Chroma server that went away: not ready, and say why
            failure = exc.__cause__ if isinstance(exc, StoreUnavailable) else exc  # what the server did
            log.warning("health: the store does not answer: %s", failure)
            articles, passages, found = 0, 0, False
            message = f"the {store} store does not answer ({type(failure).__name__})"
        else:
            message = "ready" if found else "the index is empty: ingest articles first" if passages == 0 else \
                "the store holds passages but a search through it finds none"
        return {"status": "ok", "ready": found, "articles": articles, "passages": passages,
                "model": self.embedder.model_name, "answerer": self.answerer.name,
                "store": store, "message": message}


def question_from(text: str, max_chars: int) -> str:
    """A question as RagService.ask takes it, whitespace runs made one space: PayloadTooLarge over `max_chars`,
    BadRequest when empty (the request models in server/ and rag/llamaindex.py check with it)."""
    if len(text) > max_chars:
        raise PayloadTooLarge(f"the question is {len(text)} characters; the limit is {max_chars}")
    if not text.split():
        raise BadRequest("the question is empty")
    return " ".join(text.split())


def build_embedder(settings: Settings) -> Embedder:
    return Embedder(settings.embedding_model, backend=settings.embedding_backend,
                    batch_size=settings.embedding_batch_size, cache_size=settings.embedding_cache_size,
                    threads=settings.embedding_threads, cache_dir=settings.model_cache_path)


def keyword_cache_dir(settings: Settings) -> Path | None:
    """Where this machine keeps the keyword index of the configured store (one folder per generation)."""
    if not settings.keyword_index_cache:
        return None
    store = f"{settings.chroma_host}-{settings.chroma_port}-" if settings.chroma_host else ""
    return settings.data_path / "keyword" / f"{store}{settings.collection}"


def build_service(settings: Settings, embedder: Embedder | None = None,
                  analyzer: Analyzer | None = None) -> RagService:
    """The whole pipeline from settings; pass an embedder and an analyzer to share loaded models."""
    embedder = embedder or build_embedder(settings)
    analyzer = analyzer or Analyzer()
    reopen = None if settings.chroma_host else lambda: build_client(settings)
    store = Store(build_client(settings), settings.collection, settings.dense_search_ef, reopen=reopen)
    retriever = HybridRetriever(store, embedder, candidates=settings.candidates, rrf_k=settings.rrf_k,
                                keyword_weight=settings.keyword_weight, cache_dir=keyword_cache_dir(settings),
                                dense_in_memory=settings.dense_in_memory)
    answerer = build_answerer(settings, embedder, analyzer, PassageSentences(store, analyzer, embedder))
    return RagService(settings, store, embedder, retriever, answerer, analyzer=analyzer)


class PassageSentences:
    """passages -> the sentences of each, as ingestion stored them (analysis and embedding). A passage stored
    before sentences were (an older store not ingested again since) is analyzed and embedded now."""

    def __init__(self, store: Store, analyzer: Analyzer, embedder: Embedder):
        self.store, self.analyzer, self.embedder = store, analyzer, embedder
        self._warned = False

    def __call__(self, passages: Sequence) -> list[list[StoredSentence]]:
        stored = self.store.sentences_of(passages)
        return [stored.get(p.passage_id) or self.analyzed_now(p) for p in passages]

    def analyzed_now(self, passage) -> list[StoredSentence]:
        if not self._warned:
            self._warned = True
            log.warning("passage %s has no stored analysis (stored by an older version): answering analyzes it "
                        "now, which is slower; ingest its articles again", passage.passage_id)
        sentences = self.analyzer.articles([passage.text])[0]
        _, (vectors,) = self.embedder.embed_with_spans([passage.text], [[(s.start, s.end) for s in sentences]])
        return [StoredSentence(passage.passage_id, s, v) for s, v in zip(sentences, vectors)]


def build_answerer(settings: Settings, embedder: Embedder, analyzer: Analyzer, sentences_of):
    """The extractive answerer, or — with llm_provider set — the generative one that falls back to it."""
    extractive = ExtractiveAnswerer(embedder, analyzer, sentences_of, max_sentences=settings.answer_max_sentences,
                                    min_score=settings.min_answer_score, min_coverage=settings.min_answer_coverage,
                                    close_meaning=settings.answer_close_meaning,
                                    same_meaning=settings.answer_same_meaning,
                                    require_question_names=settings.require_question_names)
    if not settings.llm_provider:
        return extractive
    from rag.llm import GenerativeAnswerer, build_llm

    return GenerativeAnswerer(build_llm(settings), embedder, extractive, settings)
