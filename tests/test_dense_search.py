"""Dense search with filters: candidates filtered in memory give what Chroma's filtered query gives."""

import pytest

from rag.models import Filters
from rag.store import chroma_where, passage_matches

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
