"""Pieces of retrieval: the top of a ranking, and the dense search over the passages' vectors in memory."""

import numpy as np
import pytest

from rag.models import Filters
from rag.retrieve import top_indices
from rag.service import build_service
from tests.conftest import ARTICLES, clear_chroma_cache, make_settings


@pytest.mark.parametrize("n", [3, 40, 1000, 34_448])
@pytest.mark.parametrize("k", [1, 10, 40])
def test_the_top_k_are_those_a_stable_sort_of_all_scores_gives_ties_included(n, k):
    rng = np.random.default_rng(n * k)
    for scores in (rng.random(n), rng.integers(0, 4, n).astype(float), np.zeros(n)):  # no ties; many; all
        assert top_indices(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()


@pytest.mark.parametrize("filters", [None, Filters(sources=("Teskara Press Agency", "Lunaria Daily Record")),
                                     Filters(date_from="2025-01-01")])
def test_the_dense_search_in_memory_finds_what_the_store_finds(corpus_service, filters):
    """The exact search over the index's vectors against Chroma's (its ef_search set high enough to be exact
    here): the same passages in the same order, with the same scores."""
    index = corpus_service.retriever.keyword_index(force=True)
    assert index.vectors is not None and len(index.vectors) == len(index.passages) > 0
    for question in ("Who runs Brightfen Energy?", "How many rail workers went on strike?", "flood damage"):
        vector = corpus_service.embedder.embed_query(question)
        mine = index.dense_search(vector, 8, filters)
        chroma = corpus_service.store.dense_search(vector, 8, filters)
        assert mine and [p.passage_id for p in mine] == [p.passage_id for p in chroma]
        assert [p.score for p in mine] == pytest.approx([p.score for p in chroma], abs=1e-4)


def test_without_vectors_in_memory_retrieval_is_the_same_through_chroma(corpus_service, embedder, analyzer,
                                                                          tmp_path):
    service = build_service(make_settings(tmp_path, dense_in_memory=False), embedder, analyzer)
    service.ingest([ARTICLES], progress=False)
    assert service.retriever.keyword_index().vectors is None
    for question in ("Who runs Brightfen Energy?", "What was stolen from the museum?"):
        chroma, memory = service.retriever.retrieve(question, 5), corpus_service.retriever.retrieve(question, 5)
        assert [p.passage_id for p in chroma.passages] == [p.passage_id for p in memory.passages]
    clear_chroma_cache()


def test_passages_found_by_both_searches_are_checked_against_the_store_once(corpus_service):
    """After a write during a question, the hits of both searches are checked together, and a passage both
    found comes twice: Chroma refuses an id asked for twice (DuplicateIDError), so each is asked once."""
    passages = list(corpus_service.store.all_passages())[:3]
    twice = passages + passages[:2]
    assert corpus_service.store.still_stored(twice) == twice


def test_a_word_no_passage_holds_is_searched_as_the_word_a_letter_away_they_hold(corpus_service):
    index = corpus_service.retriever.keyword_index()
    assert index.respelled("Which harbor did Ostmere and Srevia share?") == \
        ("Which harbor did Ostmere and Serevia share?", [("Srevia", "Serevia")])
    assert index.respelled("WHO RUNS BRIGHTFIN ENERGY?")[0] == "WHO RUNS BRIGHTFEN ENERGY?"
    assert index.respelled("What happened at the Zorblax summit?") == ("What happened at the Zorblax summit?", [])
    found = corpus_service.retriever.retrieve("Which harbor did Ostmere and Srevia share?", 3)
    assert found.question == "Which harbor did Ostmere and Serevia share?"
    assert found.respelled == (("Srevia", "Serevia"),)
    answer = corpus_service.ask("Which harbor did Ostmere and Srevia share?")
    assert answer.standalone_question == found.question and answer.notice.startswith('Read "Srevia" as "Serevia"')


def test_an_english_word_is_never_respelled_as_a_word_of_the_corpus():
    from rag.analysis import english_word
    from rag.models import Passage
    from rag.retrieve import KeywordIndex

    index = KeywordIndex([Passage("p1", "a1", "Talks", "The peace talks in Ulaanbaatar ended.", 0, 38)])
    assert english_word("place") and english_word("places") and not english_word("ulanbaatar")
    assert index.respelled("Where did the talks take place?") == ("Where did the talks take place?", [])
    assert index.respelled("Did the peaec talks in Ulanbaatar end?") == \
        ("Did the peace talks in Ulaanbaatar end?", [("peaec", "peace"), ("Ulanbaatar", "Ulaanbaatar")])


def test_a_misspelled_source_is_read_as_the_source_the_store_knows():
    from rag.models import Passage
    from rag.retrieve import KeywordIndex

    index = KeywordIndex([Passage("p1", "a1", "Cup final", "Kestrel FC beat Varna United.", 0, 29,
                                  source="Pitchside Daily")])
    assert index.respelled("What did Picthside Daily report?") == \
        ("What did Pitchside Daily report?", [("Picthside", "Pitchside")])
    assert index.implied_filters(index.respelled("What did Picthside Daily report?")[0]).sources == ("Pitchside Daily",)
