"""Dense search: with filters, candidates filtered in memory give what Chroma's filtered query gives; and the
search width (dense_search_ef) reaches Chroma's index."""

import numpy as np
import pytest

from rag.config import Settings
from rag.models import Filters
from rag.store import Store, build_client, chroma_where, passage_matches
from tests.conftest import clear_chroma_cache, make_settings

FILTERS = [Filters(date_from="2025-01-01"), Filters(date_to="2024-12-31"),
           Filters(date_from="2025-06-01", date_to="2025-06-30"), Filters(sources=("Northern Courier",)),
           Filters(date_from="2024-11-01", sources=("Teskara Press Agency", "Valdoria Farm Wire"))]
QUESTIONS = ["How many rail workers walked off the job?", "record grain harvest", "stolen museum falcon"]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: str(chroma_where(f)))
@pytest.mark.parametrize("k", [1, 2, 5])
def test_filtered_search_matches_chromas_filtered_query(corpus_service, filters, k):
    store = corpus_service.store
    for question in QUESTIONS:
        vector = corpus_service.embedder.embed_query(question)
        found = store.dense_search(vector, k, filters)
        exact = store._query(vector, k, chroma_where(filters))
        assert [p.passage_id for p in found] == [p.passage_id for p in exact]
        assert found and all(passage_matches(p, filters) for p in found)
        assert [p.score for p in found] == sorted((p.score for p in found), reverse=True)


def test_scores_are_cosine_similarities(corpus_service):
    store, embedder = corpus_service.store, corpus_service.embedder
    vector = embedder.embed_query("Kaldor rail strike over pay")
    best = store.dense_search(vector, 1, None)[0]
    expected = float(embedder.embed([f"{best.title}\n{best.text}"])[0] @ vector)
    assert best.score == pytest.approx(expected, abs=1e-3)


def test_a_narrow_filter_falls_back_to_chromas_filter(corpus_service, monkeypatch):
    store = corpus_service.store
    calls = []
    query = store._query
    monkeypatch.setattr(store, "_query", lambda v, k, where: calls.append(where) or query(v, k, where))
    filters = Filters(date_to="2024-12-31")  # the rail strike is dated 2025: its passages fail it
    found = store.dense_search(corpus_service.embedder.embed_query("Kaldor rail workers strike"), 1, filters)
    assert calls == [None, chroma_where(filters)]
    assert found and found[0].article_id != "rail-strike" and passage_matches(found[0], filters)


def _random_store(tmp_path, ef: int, n: int = 4000, dim: int = 64, seed: int = 3):
    """A store whose passages are random unit vectors: the hard case for an approximate (HNSW) index."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = Store(build_client(make_settings(tmp_path)), "rnd", dense_search_ef=ef)
    if not store.passages.count():
        for start in range(0, n, 1000):
            ids = [f"p{i}" for i in range(start, min(n, start + 1000))]
            store.passages.add(ids=ids, embeddings=vectors[start:start + 1000],
                               metadatas=[{"article_id": i} for i in ids], documents=ids)
    return store, vectors, rng


def _recall(store, vectors, rng, k: int = 40, queries: int = 60) -> float:
    found = 0
    for _ in range(queries):
        query = rng.standard_normal(vectors.shape[1]).astype(np.float32)
        query /= np.linalg.norm(query)
        exact = {f"p{i}" for i in np.argsort(-(vectors @ query))[:k]}
        found += len(exact & {p.passage_id for p in store.dense_search(query, k, None)})
    return found / (k * queries)


def test_dense_search_ef_reaches_the_index_and_finds_the_nearest(tmp_path):
    narrow, vectors, rng = _random_store(tmp_path, ef=8)
    assert narrow.passages.configuration["hnsw"]["ef_search"] == 8
    narrow_recall = _recall(narrow, vectors, rng)
    clear_chroma_cache()
    wide, vectors, rng = _random_store(tmp_path, ef=Settings().dense_search_ef)  # the default, on the same store
    assert wide.passages.count() == len(vectors)  # changing it kept every passage
    assert wide.passages.configuration["hnsw"]["ef_search"] == Settings().dense_search_ef
    wide_recall = _recall(wide, vectors, rng)
    clear_chroma_cache()
    assert wide_recall >= 0.99, wide_recall
    assert narrow_recall < wide_recall - 0.05, (narrow_recall, wide_recall)
