"""Chroma: an embedded PersistentClient by default, an HttpClient when a Chroma host is configured.
Passages are written and searched with Chroma's own calls: llama-index's ChromaVectorStore stored each passage's
node again as JSON in its metadata (~960 bytes that nothing read, ~2.1 KB of the SQLite file a passage), and its
query path cost twice as much per question. Stores it wrote read the same: the keys it added are not read.

Three collections: `<name>_passages` (one record per passage, with its embedding), `<name>_sentences` (one
record per sentence of a passage: its embedding and its linguistic analysis from rag.analysis, so answering
neither parses nor embeds passages) and `<name>_articles` (one record per article: its full body and content
hash). The article record is written after its
passages and so marks an article as complete; `<name>_meta` holds a generation stamp that changes with
every ingestion that changes anything, so other processes know to refresh their keyword index.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import httpx
import numpy as np

from rag.analysis import SentenceAnalysis
from rag.config import Settings
from rag.errors import StoreUnavailable
from rag.models import Article, Chunk, Filters, Passage

log = logging.getLogger(__name__)

PAGE = 2000
FILTER_OVERFETCH = 4  # filtered dense search: nearest k * this, filtered in memory first
_EMPTY = ""
WRITE_SLICE = 4000  # records in one Chroma write (Chroma caps its size)
COSINE = {"hnsw:space": "cosine"}
SET_EF_TRIES = 5  # setting ef_search while SQLite is still locked by a client that just closed the store


# Bump when what ingestion stores per sentence changes: stored articles are redone. 2: sentence vectors are
# pooled from their passage's pass through the model (rag.embedding), no longer embedded alone.
# 3: a field and its value on a line of their own ("Release date. October 27, 2017") are one sentence, no heading.
ANALYSIS_VERSION = 3


@dataclass(frozen=True)
class ArticleState:
    content_hash: str
    origin: str
    n_passages: int
    analysis_version: int = 0


@dataclass(frozen=True)
class StoredSentence:
    """A sentence of a passage as ingestion stored it: offsets relative to the passage text."""

    passage_id: str
    analysis: SentenceAnalysis
    vector: np.ndarray


def build_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                       ssl=settings.chroma_ssl, settings=chroma_settings)
        path = settings.data_path / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else settings.data_dir
        raise StoreUnavailable(f"cannot open the Chroma store at {where}: {exc}") from exc


@contextmanager
def chroma_answers() -> Iterator[None]:
    """A Chroma server that does not answer (an httpx transport error) raises StoreUnavailable."""
    try:
        yield
    except httpx.TransportError as exc:
        log.error("the Chroma server does not answer: %s", exc)
        raise StoreUnavailable("the vector store does not answer; try again shortly") from exc


class ReadWriteLock:
    """Many readers or one writer; a writer that waits keeps new readers out, so questions cannot starve a
    write. Not reentrant: a reader must not read again inside its section. The Store's Chroma calls are made
    in its sections, which turn a Chroma server that does not answer into StoreUnavailable."""

    def __init__(self):
        self._changed = threading.Condition()
        self._readers = self._waiting = 0
        self._writing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._writing and not self._waiting)
            self._readers += 1
        try:
            with chroma_answers():
                yield
        finally:
            with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._changed:
            self._waiting += 1
            self._changed.wait_for(lambda: not self._writing and not self._readers)
            self._waiting -= 1
            self._writing = True
        try:
            with chroma_answers():
                yield
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()


def date_number(date: str | None) -> int:
    return int(date.replace("-", "")) if date else 0


def _passage_id(article: Article, chunk: Chunk) -> str:
    return f"{article.id}::{chunk.index}::{article.content_hash[:12]}"


class Store:
    """The collections, read and written under one read-write lock: a question never sees half of a write.

    reopen: makes a new client of the same embedded store; given, refresh() opens the store again when another
    process changed it (Chroma's open index does not see another process's writes)."""

    def __init__(self, client, collection: str = "news", dense_search_ef: int | None = None,
                 reopen: Callable[[], Any] | None = None):
        self.name = collection
        self._dense_search_ef = dense_search_ef
        self._reopen = reopen
        self._lock = ReadWriteLock()
        self.writes = 0  # writes made through this Store: a keyword index built before one may hold stale passages
        with chroma_answers():
            self._open(client)
            self._generation = self._stamp()
        # the generation last set or seen, and the writes made by then: an index saved for that generation holds
        # every passage only while no write has followed it (the generation is bumped after a write, not in it)
        self.generation_writes = (self._generation, self.writes)

    def _open(self, client) -> None:
        def collection(part: str, **metadata):
            return client.get_or_create_collection(f"{self.name}_{part}", embedding_function=None, **metadata)

        self._client = client
        self.passages = collection("passages", metadata=COSINE)
        if self._dense_search_ef is not None:
            self._set_search_ef(self._dense_search_ef)
        self.sentences = collection("sentences", metadata=COSINE)
        self.articles = collection("articles", metadata=COSINE)
        self._meta = collection("meta")

    def _set_search_ef(self, ef: int) -> None:
        """Chroma's default ef_search (100) missed the nearest passage for 2.75% of questions on the full Reuters
        store, and which ones changed between starts; 1600 missed none (bench/dense_recall.py). ef_search is
        stored with the collection, so set it before the first query opens the index. (A Chroma server keeps
        an index it has already opened as it is, until it restarts.)"""
        for attempt in range(SET_EF_TRIES):
            try:
                if ((self.passages.configuration or {}).get("hnsw") or {}).get("ef_search") != ef:
                    self.passages.modify(configuration={"hnsw": {"ef_search": ef}})
                return
            except Exception as exc:  # an older Chroma server: search as it is rather than not at all
                if "database is locked" in str(exc) and attempt + 1 < SET_EF_TRIES:
                    time.sleep(0.2 * (attempt + 1))  # a process closing this store a moment ago: once more
                    continue
                log.warning("could not set the passages' ef_search to %d (%s); it stays as it was", ef, exc)
                return

    def close(self) -> None:
        """Forget its cached Chroma system: the next client of its folder reads the folder afresh."""
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(getattr(self._client, "_identifier", None), None)

    # --- reading -------------------------------------------------------------------------------
    def counts(self) -> tuple[int, int]:  # articles, passages
        with self._lock.reading():
            return self.articles.count(), self.passages.count()

    def is_empty(self) -> bool:  # no passage to answer from
        with self._lock.reading():
            return self.passages.count() == 0

    def generation(self) -> str:
        with self._lock.reading():
            return self._stamp()

    def _stamp(self) -> str:
        got = self._meta.get(ids=["generation"], include=["documents"])
        return got["documents"][0] if got["ids"] else ""

    def refresh(self) -> str:
        """The store's generation; an embedded store that another process changed since this one last looked
        (an ingestion that was already running when the server opened it) is opened again first."""
        generation = self.generation()
        if generation == self._generation:
            return generation
        if self._reopen is None:  # a Chroma server: another process's writes are seen as they are made
            self._generation, self.generation_writes = generation, (generation, self.writes)
            return generation
        with self._lock.writing():
            if self._stamp() != self._generation:
                log.warning("another process changed the store; opening it again to see the change")
                self.close()
                self._open(self._reopen())
                self._generation = self._stamp()
                self.writes += 1
                self.generation_writes = (self._generation, self.writes)
            return self._generation

    def article_states(self) -> dict[str, ArticleState]:
        states = {}
        for ids, metas, _, _ in self._pages(self.articles, ["metadatas"]):
            for article_id, meta in zip(ids, metas):
                states[article_id] = ArticleState(meta.get("content_hash", ""), meta.get("origin", ""),
                                                  int(meta.get("n_passages", 0)),
                                                  int(meta.get("analysis_version", 0)))
        return states

    def passage_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, metas, _, _ in self._pages(self.passages, ["metadatas"]):
            for meta in metas:
                counts[meta["article_id"]] = counts.get(meta["article_id"], 0) + 1
        return counts

    def all_passages(self) -> Iterator[Passage]:
        for ids, metas, docs, _ in self._pages(self.passages, ["metadatas", "documents"]):
            for passage_id, meta, text in zip(ids, metas, docs):
                yield passage_from_record(passage_id, meta, text)

    def passages_with_vectors(self) -> tuple[list[Passage], np.ndarray]:
        """Every passage and its vector (rows in the same order), read in one pass."""
        passages, vectors = [], []
        for ids, metas, docs, embeddings in self._pages(self.passages, ["metadatas", "documents", "embeddings"]):
            passages.extend(passage_from_record(i, meta, text) for i, meta, text in zip(ids, metas, docs))
            vectors.append(np.asarray(embeddings, dtype=np.float32).reshape(len(ids), -1))
        return passages, (np.concatenate(vectors) if vectors else np.zeros((0, 0), dtype=np.float32))

    def _pages(self, collection, include: list[str]) -> list[tuple[list, list, list, list]]:
        """Every record of the collection, a page at a time, all read under one lock (no write between pages):
        (ids, metadatas, documents, embeddings) of each page, an empty list for what was not included."""
        pages, offset = [], 0
        with self._lock.reading():
            while True:
                got = collection.get(include=include, limit=PAGE, offset=offset)
                if not got["ids"]:
                    return pages
                embeddings = got.get("embeddings")
                pages.append((got["ids"], got.get("metadatas") or [], got.get("documents") or [],
                               [] if embeddings is None else embeddings))
                offset += len(got["ids"])

    def sentences_of(self, passages: Sequence[Passage]) -> dict[str, list[StoredSentence]]:
        """The stored sentences of these passages, in order (a passage ingested before sentences were stored
        has none).

        A passage's sentences have the ids `<passage id>::0`, `::1`…, so they are read by id (3-6 ms on the full
        Reuters store, against 25 ms through a metadata filter). Their number is not stored: the ids asked for
        run to a bound taken from the passage's sentence marks, and a passage that fills its bound is read
        again through the filter, so none is ever cut short."""
        found: dict[str, list[StoredSentence]] = {}
        bounds = {p.passage_id: _sentence_bound(p.text) for p in passages}
        if not bounds:
            return found
        with self._lock.reading():
            got = self.sentences.get(ids=[f"{pid}::{n}" for pid, bound in bounds.items() for n in range(bound)],
                                     include=["metadatas", "embeddings"])
            rows = list(zip(got["metadatas"], got["embeddings"]))
            counts = Counter(meta["passage_id"] for meta, _ in rows)
            full = [pid for pid, bound in bounds.items() if counts[pid] >= bound]
            if full:
                rows = [row for row in rows if row[0]["passage_id"] not in full]
                got = self.sentences.get(where={"passage_id": {"$in": full}}, include=["metadatas", "embeddings"])
                rows.extend(zip(got["metadatas"], got["embeddings"]))
        for meta, vector in sorted(rows, key=lambda row: (row[0]["passage_id"], row[0]["n"])):
            analysis = SentenceAnalysis.from_list(json.loads(meta["analysis"]))
            found.setdefault(meta["passage_id"], []).append(
                StoredSentence(meta["passage_id"], analysis, np.asarray(vector, dtype=np.float32)))
        return found

    def still_stored(self, passages: Sequence[Passage]) -> list[Passage]:
        """These passages less those a write has removed since they were read (a passage may come twice: found
        by both searches; Chroma refuses an id asked for twice)."""
        if not passages:
            return []
        with self._lock.reading():
            ids = list(dict.fromkeys(p.passage_id for p in passages))
            stored = set(self.passages.get(ids=ids, include=[])["ids"])
        return [p for p in passages if p.passage_id in stored]

    def get_article(self, article_id: str) -> Article | None:
        with self._lock.reading():
            got = self.articles.get(ids=[article_id], include=["metadatas", "documents"])
        if not got["ids"]:
            return None
        meta = got["metadatas"][0]
        return Article(id=article_id, title=meta.get("title", ""), body=got["documents"][0],
                       date=meta.get("date") or None, source=meta.get("source") or None,
                       url=meta.get("url") or None, origin=meta.get("origin", ""),
                       content_hash=meta.get("content_hash", ""))

    def article_metadata(self) -> list[dict]:
        rows = []
        for ids, metas, _, _ in self._pages(self.articles, ["metadatas"]):
            rows.extend({"id": i, **m} for i, m in zip(ids, metas))
        return rows

    def dense_search(self, embedding: np.ndarray, k: int, filters: Filters | None) -> list[Passage]:
        """The k passages nearest in cosine that pass the filters (bench/dense_search.py measures this).

        Chroma's filtered query costs 30-190 ms on 34,000 passages, an unfiltered one 4 ms; so a filtered
        search first takes the FILTER_OVERFETCH * k nearest unfiltered and filters them in memory, which
        gives the same k passages whenever at least k of them pass, and asks Chroma with the filter only
        when fewer do (a narrow filter).
        """
        if filters is None or filters.is_empty():
            return self._query(embedding, k, None)
        nearest = self._query(embedding, k * FILTER_OVERFETCH, None)
        passing = [p for p in nearest if passage_matches(p, filters)]
        if len(passing) >= k or len(nearest) < k * FILTER_OVERFETCH:  # enough, or every passage was seen
            return passing[:k]
        return self._query(embedding, k, chroma_where(filters))

    def _query(self, embedding: np.ndarray, k: int, where: dict | None) -> list[Passage]:
        """Chroma's query, directly: llama-index's ChromaVectorStore rebuilt a node per hit and took longer."""
        with self._lock.reading():
            got = self.passages.query(query_embeddings=[embedding.tolist()], n_results=k, where=where,
                                      include=["metadatas", "documents", "distances"])
        hits = zip(got["ids"][0], got["metadatas"][0], got["documents"][0], got["distances"][0])
        return [passage_from_record(passage_id, meta, text, score=1.0 - float(distance))
                for passage_id, meta, text, distance in hits if meta is not None and text is not None]

    # --- writing -------------------------------------------------------------------------------
    def write_articles(self, batch: Sequence[tuple[Article, Sequence[Chunk], np.ndarray, np.ndarray]]) -> None:
        """Write these articles' new passages and their sentences (article, chunks, passage vectors, sentence
        vectors in chunk order), then their records (a record marks an article complete), and only then remove
        their old passages: a run killed at any point loses no stored version (the new passage ids carry the new
        content hash, so old and new never collide); the next run tidies up."""
        if not batch:
            return
        with self._lock.writing():
            self._write_articles(batch)
            self.writes += 1

    def _write_articles(self, batch) -> None:
        article_ids = [article.id for article, _, _, _ in batch]
        ids, vectors, texts, metadatas = _passage_records(batch)
        new_ids = set(ids)
        existing = set(self.passages.get(where={"article_id": {"$in": article_ids}}, include=[])["ids"])
        if existing & new_ids:  # the same version again (a run killed before its record): rewrite it whole
            self._delete_passage_ids(sorted(existing & new_ids))
        if ids:
            _add(self.passages, ids, embeddings=vectors, documents=texts, metadatas=metadatas)
            self._add_sentences(batch)
        self.articles.upsert(ids=article_ids,
                             documents=[article.body for article, _, _, _ in batch],
                             embeddings=[_mean_vector(vectors) for _, _, vectors, _ in batch],
                             metadatas=[_article_metadata(article, len(chunks)) for article, chunks, _, _ in batch])
        if existing - new_ids:
            self._delete_passage_ids(sorted(existing - new_ids))

    def _add_sentences(self, batch) -> None:
        ids, vectors, metadatas = [], [], []
        for article, chunks, _, sentence_vectors in batch:
            sentences = [(chunk, n, sentence) for chunk in chunks for n, sentence in enumerate(chunk.sentences)]
            for (chunk, n, sentence), vector in zip(sentences, sentence_vectors):
                passage_id = _passage_id(article, chunk)
                ids.append(f"{passage_id}::{n}")
                vectors.append(vector.tolist())
                metadatas.append({"article_id": article.id, "passage_id": passage_id, "n": n,
                                  "analysis": json.dumps(sentence.shifted(-chunk.start).to_list(),
                                                         ensure_ascii=False, separators=(",", ":"))})
        _add(self.sentences, ids, embeddings=vectors, metadatas=metadatas)

    def _delete_passage_ids(self, passage_ids: list[str]) -> None:
        self.sentences.delete(where={"passage_id": {"$in": passage_ids}})
        self.passages.delete(ids=passage_ids)

    def delete_passages(self, article_id: str) -> None:
        with self._lock.writing():
            self._delete_passages(article_id)
            self.writes += 1

    def _delete_passages(self, article_id: str) -> None:
        self.sentences.delete(where={"article_id": article_id})
        self.passages.delete(where={"article_id": article_id})

    def delete_article(self, article_id: str) -> None:
        """Passages first, record last: a crash in between leaves a record the next run removes."""
        with self._lock.writing():
            self._delete_passages(article_id)
            self.articles.delete(ids=[article_id])
            self.writes += 1

    def bump_generation(self) -> str:
        stamp = uuid.uuid4().hex
        with self._lock.writing():
            self._meta.upsert(ids=["generation"], documents=[stamp], embeddings=[[0.0]])
            self._generation = stamp
            self.generation_writes = (stamp, self.writes)
        return stamp


def _mean_vector(vectors: np.ndarray) -> list[float]:
    mean = vectors.mean(axis=0)
    return (mean / (float(np.linalg.norm(mean)) or 1.0)).tolist()


def _article_metadata(article: Article, n_passages: int) -> dict:
    return {"title": article.title, "date": article.date or _EMPTY, "date_num": date_number(article.date),
            "source": article.source or _EMPTY, "url": article.url or _EMPTY, "origin": article.origin,
            "content_hash": article.content_hash, "n_passages": n_passages, "analysis_version": ANALYSIS_VERSION}


def _passage_records(batch) -> tuple[list[str], list[list[float]], list[str], list[dict]]:
    """Ids, vectors, texts and metadata of the batch's passages, in order."""
    ids, vectors, texts, metadatas = [], [], [], []
    for article, chunks, chunk_vectors, _ in batch:
        for chunk, vector in zip(chunks, chunk_vectors):
            ids.append(_passage_id(article, chunk))
            vectors.append(vector.tolist())
            texts.append(chunk.text)
            metadatas.append({"article_id": article.id, "title": article.title, "date": article.date or _EMPTY,
                              "date_num": date_number(article.date), "source": article.source or _EMPTY,
                              "url": article.url or _EMPTY, "start": chunk.start, "end": chunk.end,
                              "index": chunk.index, "section": chunk.section})
    return ids, vectors, texts, metadatas


def _add(collection, ids: list[str], **columns: list) -> None:
    """Write these records a slice at a time (Chroma caps one write's size). An upsert: a record left by a
    write that failed half-way is replaced rather than refused."""
    for first in range(0, len(ids), WRITE_SLICE):
        part = slice(first, first + WRITE_SLICE)
        collection.upsert(ids=ids[part], **{name: values[part] for name, values in columns.items()})


_SENTENCE_MARK = re.compile(r"[.!?…;:]+|\n")


def _sentence_bound(text: str) -> int:
    """More sentence ids than a passage of this text usually has (its sentence marks and line breaks, plus a
    margin for sentences spaCy ends without one)."""
    return len(_SENTENCE_MARK.findall(text)) + 4


def passage_from_record(passage_id: str, meta: dict, text: str, score: float = 0.0) -> Passage:
    return Passage(passage_id=passage_id, article_id=meta["article_id"], title=meta.get("title", ""),
                   text=text, start=int(meta.get("start", 0)), end=int(meta.get("end", 0)),
                   date=meta.get("date") or None, source=meta.get("source") or None,
                   url=meta.get("url") or None, section=meta.get("section") or None, score=score)


def chroma_where(filters: Filters | None) -> dict | None:
    """Chroma's `where` for these filters (None when there are none)."""
    if filters is None or filters.is_empty():
        return None
    parts: list[dict] = []
    if filters.date_from:
        parts.append({"date_num": {"$gte": date_number(filters.date_from)}})
    if filters.date_to:
        parts.append({"date_num": {"$lte": date_number(filters.date_to)}})
    if filters.date_to and not filters.date_from:  # undated articles (date_num 0) match no date range
        parts.append({"date_num": {"$gt": 0}})
    if filters.sources:
        parts.append({"source": {"$in": list(filters.sources)}})
    return parts[0] if len(parts) == 1 else {"$and": parts}


def passage_matches(passage: Passage, filters: Filters | None) -> bool:
    """The same test as chroma_where, for passages filtered in memory (keyword search)."""
    if filters is None or filters.is_empty():
        return True
    number = date_number(passage.date)
    if filters.date_from and (number == 0 or number < date_number(filters.date_from)):
        return False
    if filters.date_to and (number == 0 or number > date_number(filters.date_to)):
        return False
    return not filters.sources or (passage.source or "") in filters.sources
