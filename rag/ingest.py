"""Idempotent, incremental ingestion by article id and content hash.

New articles are added, changed ones replace their passages, articles gone from a file that was read
cleanly (or whose file is gone) are removed. Unchanged articles are never re-embedded. A run killed at
any point leaves the store usable, and the next run completes it: an article counts as stored only when
its record (written after its passages) carries the current hash and its passage count matches.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from tqdm import tqdm

from rag.analysis import Analyzer
from rag.chunking import chunk_article
from rag.config import Settings
from rag.corpus import LoadResult, load_articles
from rag.embedding import Embedder, available_cores
from rag.errors import IngestLocked
from rag.models import Article, Chunk, IngestReport
from rag.store import ANALYSIS_VERSION, ArticleState, Store

log = logging.getLogger(__name__)

GROUP_ARTICLES = 128  # articles analyzed, embedded and written together


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    """One ingestion at a time per data folder; a second one gets a clear IngestLocked."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "ingest.lock"
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise IngestLocked(f"another ingestion is running on {data_dir} ({holder}); "
                               "wait for it to finish and run again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def ingestion_settings(settings: Settings) -> Settings:
    """The settings of a process that only ingests: unless embedding_threads is set, the encoder leaves one core
    to spaCy, which analyzes the next group of articles beside it (on 2 cores the full Reuters collection took
    755 s with one encoder thread, 788 s with two: BENCHMARKS.md)."""
    if settings.embedding_threads:
        return settings
    return settings.replace(embedding_threads=max(1, available_cores() - 1))


def embedding_text(article: Article, chunk: Chunk) -> str:
    """What a passage's embedding reads: the article's title and the passage's section heading give it
    context the passage text may not repeat."""
    return "\n".join(part for part in (article.title, chunk.section, chunk.text) if part)


class Ingestor:
    def __init__(self, store: Store, embedder: Embedder, analyzer: Analyzer, settings: Settings):
        self.store = store
        self.embedder = embedder
        self.analyzer = analyzer
        self.settings = settings

    def ingest(self, paths: Sequence[str | Path], progress: bool = True, prune: bool = True) -> IngestReport:
        started = time.perf_counter()
        with ingest_lock(self.settings.data_path):
            report = self._ingest(paths, progress, prune)
        report.seconds = time.perf_counter() - started
        return report

    def ingest_articles(self, articles: Sequence[Article], report: IngestReport) -> IngestReport:
        """Add these articles and update changed ones (removing none), into a report that may already list
        skipped records."""
        started = time.perf_counter()
        with ingest_lock(self.settings.data_path):
            states, stored_counts = self.store.article_states(), self.store.passage_counts()
            self._store(articles, states, stored_counts, report, progress=False)
            if report.changed:
                self.store.bump_generation()
        report.seconds = time.perf_counter() - started
        return report

    def remove_article(self, article_id: str) -> bool:
        """Remove one article; False when there is none with this id."""
        with ingest_lock(self.settings.data_path):
            if self.store.get_article(article_id) is None:
                return False
            self.store.delete_article(article_id)
            self.store.bump_generation()
        return True

    def remove_articles(self, article_ids: Sequence[str]) -> list[str]:
        """Remove these articles together (one new generation); the ids removed, leaving out unknown ones."""
        with ingest_lock(self.settings.data_path):
            removed = [i for i in dict.fromkeys(article_ids) if self.store.get_article(i) is not None]
            for article_id in removed:
                self.store.delete_article(article_id)
            if removed:
                self.store.bump_generation()
        return removed

    def _ingest(self, paths: Sequence[str | Path], progress: bool, prune: bool) -> IngestReport:
        report = IngestReport()
        loads = [load_articles(path, self.settings.max_article_bytes) for path in paths]
        for load in loads:
            report.skipped.extend(load.skipped)
        articles = unique_articles(loads, report)
        states = self.store.article_states()
        stored_counts = self.store.passage_counts()
        self._store(articles, states, stored_counts, report, progress)
        if prune:
            report.removed = self._prune(paths, loads, {a.id for a in articles}, states, stored_counts)
        if report.changed:
            self.store.bump_generation()
        return report

    def _store(self, articles: Sequence[Article], states: dict[str, ArticleState], stored_counts: dict[str, int],
               report: IngestReport, progress: bool) -> None:
        """Write the articles not stored as they are (new, changed, or left half-written by a killed run)."""
        pending = [a for a in articles if not _is_stored(a, states.get(a.id), stored_counts)]
        report.unchanged += len(articles) - len(pending)
        for article in pending:
            (report.updated if article.id in states else report.added).append(article.id)
        report.passages_written += self._write(pending, progress)

    def _write(self, articles: Sequence[Article], progress: bool) -> int:
        """Analyze, chunk, embed (passages, and their sentences in the same pass) and write, a group of articles
        at a time. The next group is analyzed (spaCy) in a second thread while this one is embedded: the encoder
        leaves the interpreter free while it computes, so the two overlap (bench/ingest_throughput.py)."""
        total = 0
        bar = tqdm(total=len(articles), unit="article", desc="ingesting", disable=not progress or not articles)
        groups = list(_groups(articles, GROUP_ARTICLES))
        with bar, ThreadPoolExecutor(1, thread_name_prefix="analysis") as analysis:
            pending = analysis.submit(self.chunked, groups[0]) if groups else None
            for number in range(len(groups)):
                chunked = pending.result()
                if number + 1 < len(groups):
                    pending = analysis.submit(self.chunked, groups[number + 1])
                total += self._embed_and_write(chunked)
                bar.update(len(groups[number]))
        return total

    def _embed_and_write(self, chunked: list[tuple[Article, list[Chunk]]]) -> int:
        """One pass of the model per passage gives the passage's vector and its sentences' (pooled from the
        passage's token vectors: rag.embedding)."""
        texts, spans = [], []
        for article, chunks in chunked:
            for chunk in chunks:
                text = embedding_text(article, chunk)
                shift = len(text) - len(chunk.text) - chunk.start  # the passage's text ends the embedded text
                texts.append(text)
                spans.append([(s.start + shift, s.end + shift) for s in chunk.sentences])
        vectors, sentence_vectors = self.embedder.embed_with_spans(texts, spans)
        batch, offset = [], 0
        for article, chunks in chunked:
            batch.append((article, chunks, vectors[offset:offset + len(chunks)],
                          np.concatenate([np.zeros((0, self.embedder.dimension), np.float32),
                                          *sentence_vectors[offset:offset + len(chunks)]])))
            offset += len(chunks)
        self.store.write_articles(batch)
        return len(texts)

    def chunked(self, articles: Sequence[Article]) -> list[tuple[Article, list[Chunk]]]:
        analyses = self.analyzer.articles([a.body for a in articles], max_sentence_words=self.settings.chunk_words)
        return [(a, chunk_article(a, sentences, self.settings.chunk_words, self.settings.chunk_overlap_sentences))
                for a, sentences in zip(articles, analyses)]

    def _prune(self, paths, loads: Sequence[LoadResult], present: set[str],
               states: dict[str, ArticleState], stored_counts: dict[str, int]) -> list[str]:
        origins = {article_id: state.origin for article_id, state in states.items()}
        removed = articles_to_prune(origins, paths, loads, present)
        for article_id in removed:
            self.store.delete_article(article_id)
        for orphan in set(stored_counts) - set(states) - present:
            self.store.delete_passages(orphan)  # left by a run killed before the article record
        return removed


def articles_to_prune(origins: dict[str, str], paths: Sequence[str | Path], loads: Sequence[LoadResult],
                      present: set[str]) -> list[str]:
    """The stored articles (id -> origin) that an ingestion of these paths removes: those whose origin lies
    under one of the paths and that are no longer there, except when their file could not be read cleanly.
    Articles from other paths are left alone. The same rule for a local ingestion and one through a server."""
    roots = [Path(p).expanduser().resolve() for p in paths]
    unclean = [Path(p) for p in set().union(*(load.unclean for load in loads))]  # files and folders
    removed = []
    for article_id, origin in origins.items():
        if article_id in present or not lies_under(Path(origin), roots):
            continue
        try:
            keep = Path(origin).exists() and lies_under(Path(origin), unclean)
        except OSError:  # its folder cannot be read: whether it is gone cannot be told
            keep = True
        if keep:
            log.warning("keeping %s: its file %s could not be read cleanly", article_id, origin)
            continue
        removed.append(article_id)
    return removed


def _is_stored(article: Article, state: ArticleState | None, stored_counts: dict[str, int]) -> bool:
    return (state is not None and state.content_hash == article.content_hash and state.origin == article.origin
            and stored_counts.get(article.id, 0) == state.n_passages and state.analysis_version == ANALYSIS_VERSION)


def unique_articles(loads: Sequence[LoadResult], report: IngestReport) -> list[Article]:
    seen: dict[str, str] = {}
    articles = []
    for load in loads:
        for article in load.articles:
            if article.id in seen:
                report.skipped.append((article.origin, f"article id {article.id!r} already used by "
                                                       f"{seen[article.id]}"))
                continue
            seen[article.id] = article.origin
            articles.append(article)
    return articles


def lies_under(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _groups(articles: Sequence[Article], size: int) -> Iterator[Sequence[Article]]:
    for first in range(0, len(articles), size):
        yield articles[first:first + size]
