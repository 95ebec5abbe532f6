"""The keyword index is saved per store generation and loaded on start instead of being rebuilt."""

import logging
import shutil

from rag.service import build_service, keyword_cache_dir
from tests.conftest import ARTICLES, clear_chroma_cache, make_settings


def _corpus(tmp_path, names):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in names:
        shutil.copy(ARTICLES / name, corpus / name)
    return corpus


def _no_rebuild(service):
    def refuse():
        raise AssertionError("the keyword index was rebuilt from the store")

    service.store.passages_with_vectors = refuse


def _search_ids(service, question):
    return [p.passage_id for p in service.retriever.keyword_index().search(question, 10, None)]


def test_a_restart_loads_the_saved_index_instead_of_rebuilding(service, embedder, tmp_path):
    service.ingest([_corpus(tmp_path, ["rail-strike.txt", "flood.json"])], progress=False)
    generation = service.store.generation()
    folder = keyword_cache_dir(service.settings) / generation
    assert (folder / "complete").exists()
    expected = _search_ids(service, "rail workers strike pay")
    assert expected

    restarted = build_service(service.settings, embedder)
    _no_rebuild(restarted)
    assert _search_ids(restarted, "rail workers strike pay") == expected
    answer = restarted.ask("How many rail workers walked off the job?")
    assert any(c.passage.article_id == "rail-strike" for c in answer.citations)


def test_a_change_makes_a_new_generation_and_drops_the_old_one(service, embedder, tmp_path):
    corpus = _corpus(tmp_path, ["rail-strike.txt"])
    service.ingest([corpus], progress=False)
    old = service.store.generation()
    shutil.copy(ARTICLES / "grain-harvest.md", corpus / "grain-harvest.md")
    service.ingest([corpus], progress=False)
    new = service.store.generation()
    cache = keyword_cache_dir(service.settings)
    assert new != old and [p.name for p in cache.iterdir()] == [new]

    restarted = build_service(service.settings, embedder)
    _no_rebuild(restarted)
    found = restarted.retriever.keyword_index().search("harvest grain", 10, None)
    assert "grain-harvest" in {p.article_id for p in found}


def test_another_process_ingesting_is_seen_through_the_generation(service, embedder, tmp_path):
    corpus = _corpus(tmp_path, ["rail-strike.txt"])
    service.ingest([corpus], progress=False)
    reader = build_service(service.settings, embedder)
    assert "grain-harvest" not in {p.article_id for p in reader.retriever.keyword_index().passages}
    shutil.copy(ARTICLES / "grain-harvest.md", corpus / "grain-harvest.md")
    service.ingest([corpus], progress=False)  # the "other process": same store, its own retriever
    index = reader.retriever.keyword_index(force=True)
    assert "grain-harvest" in {p.article_id for p in index.passages}


def test_an_unreadable_saved_index_is_rebuilt(service, embedder, tmp_path, caplog):
    service.ingest([_corpus(tmp_path, ["rail-strike.txt"])], progress=False)
    folder = keyword_cache_dir(service.settings) / service.store.generation()
    (folder / "passages.json").write_text("{not json")
    restarted = build_service(service.settings, embedder)
    with caplog.at_level(logging.WARNING, logger="rag.retrieve"):
        index = restarted.retriever.keyword_index()
    assert "unreadable" in caplog.text
    assert {p.article_id for p in index.passages} == {"rail-strike"}


def test_an_index_saved_without_vectors_is_rebuilt_once_and_saved_with_them(service, embedder, tmp_path):
    """A folder an older version saved (no vectors.npy): rebuilt on the next start, put in its place, and
    loaded from then on."""
    service.ingest([_corpus(tmp_path, ["rail-strike.txt"])], progress=False)
    folder = keyword_cache_dir(service.settings) / service.store.generation()
    (folder / "vectors.npy").unlink()
    restarted = build_service(service.settings, embedder)
    assert restarted.retriever.keyword_index().vectors is not None
    assert (folder / "vectors.npy").exists()
    again = build_service(service.settings, embedder)
    _no_rebuild(again)
    assert again.retriever.keyword_index().vectors is not None


def test_the_cache_can_be_turned_off(embedder, tmp_path):
    settings = make_settings(tmp_path, keyword_index_cache=False)
    service = build_service(settings, embedder)
    try:
        service.ingest([_corpus(tmp_path, ["rail-strike.txt"])], progress=False)
        assert keyword_cache_dir(settings) is None
        assert not (settings.data_path / "keyword").exists()
        assert service.retriever.keyword_index().search("rail strike", 5, None)
    finally:
        clear_chroma_cache()


def test_a_cache_that_cannot_be_written_leaves_the_index_in_memory(service, tmp_path, caplog):
    blocker = keyword_cache_dir(service.settings).parent
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="rag.retrieve"):
        service.ingest([_corpus(tmp_path, ["rail-strike.txt"])], progress=False)
    assert "cannot save the keyword index" in caplog.text
    answer = service.ask("How many rail workers walked off the job?")
    assert any(c.passage.article_id == "rail-strike" for c in answer.citations)
