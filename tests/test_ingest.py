"""Idempotent, incremental ingestion into a real Chroma store on disk."""

import json
import shutil
from dataclasses import replace

import numpy as np

from rag.config import load_settings
from rag.corpus import load_articles
from rag.embedding import available_cores
from rag.ingest import Ingestor, embedding_text, ingestion_settings
from rag.store import ANALYSIS_VERSION
from tests.conftest import ARTICLES

FIXTURE_QUESTIONS = ARTICLES.parents[2] / "eval" / "sets" / "fixture.jsonl"


def expected_passages(service, root) -> int:
    return sum(len(chunks) for _, chunks in
               Ingestor(service.store, service.embedder, service.analyzer, service.settings).chunked(
                   load_articles(root).articles))


def test_first_run_adds_everything_and_second_run_adds_nothing(service, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ARTICLES, corpus)
    first = service.ingest([corpus], progress=False)
    assert len(first.added) == 7 and first.updated == first.removed == [] and first.skipped == []
    counts = service.store.counts()
    assert counts == (7, expected_passages(service, corpus))
    generation = service.store.generation()

    second = service.ingest([corpus], progress=False)
    assert (second.added, second.updated, second.removed, second.unchanged) == ([], [], [], 7)
    assert second.passages_written == 0
    assert service.store.counts() == counts
    assert service.store.generation() == generation  # nothing changed, nothing to refresh


def test_a_changed_article_replaces_its_passages(service, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ARTICLES, corpus)
    service.ingest([corpus], progress=False)
    flood = corpus / "flood.json"
    record = json.loads(flood.read_text())
    record["body"] = record["body"].replace("Clara Ventis", "Tomas Brell")
    flood.write_text(json.dumps(record))

    report = service.ingest([corpus], progress=False)
    assert report.updated == ["json-river-flood"] and report.unchanged == 6 and report.added == []
    texts = [p.text for p in service.store.all_passages() if p.article_id == "json-river-flood"]
    assert texts and any("Tomas Brell" in t for t in texts)
    assert not any("Clara Ventis" in t for t in texts)
    assert service.store.counts()[1] == expected_passages(service, corpus)
    answer = service.ask("Who is the mayor of Merrowick?")
    assert "Tomas Brell" in answer.answer and "Clara Ventis" not in answer.answer


def test_a_removed_article_loses_its_passages(service, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ARTICLES, corpus)
    service.ingest([corpus], progress=False)
    (corpus / "rail-strike.txt").unlink()

    report = service.ingest([corpus], progress=False)
    assert report.removed == ["rail-strike"]
    assert service.store.get_article("rail-strike") is None
    assert all(p.article_id != "rail-strike" for p in service.store.all_passages())
    assert service.store.counts() == (6, expected_passages(service, corpus))


def test_a_file_that_turns_unreadable_keeps_its_stored_articles(service, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ARTICLES, corpus)
    service.ingest([corpus], progress=False)
    (corpus / "articles.jsonl").write_text("{broken json\n")

    report = service.ingest([corpus], progress=False)
    assert report.removed == []
    assert report.skipped and report.skipped[0][0] == "articles.jsonl"
    assert service.store.get_article("jsonl-solar-farm") is not None


def test_ingesting_another_folder_leaves_the_first_alone(service, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    shutil.copy(ARTICLES / "flood.json", first)
    shutil.copy(ARTICLES / "rail-strike.txt", second)
    service.ingest([first], progress=False)
    report = service.ingest([second], progress=False)
    assert report.added == ["rail-strike"] and report.removed == []
    assert service.store.counts()[0] == 2


def test_leftovers_of_an_interrupted_run_are_completed(service, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ARTICLES, corpus)
    service.ingest([corpus], progress=False)
    expected = service.store.counts()
    # what a run killed between writing passages and the article record leaves behind:
    service.store.articles.delete(ids=["grain-harvest"])
    some = service.store.passages.get(where={"article_id": "rail-strike"}, include=[])["ids"][:1]
    service.store.passages.delete(ids=some)  # and an article with a passage missing

    report = service.ingest([corpus], progress=False)
    assert sorted(report.added + report.updated) == ["grain-harvest", "rail-strike"]
    assert service.store.counts() == expected
    ids = [p.passage_id for p in service.store.all_passages()]
    assert len(ids) == len(set(ids))


def test_a_folder_that_turns_unreadable_keeps_its_stored_articles(service, tmp_path, monkeypatch):
    from tests.test_corpus import lock_folder

    corpus = tmp_path / "corpus"
    shutil.copytree(ARTICLES, corpus / "news")
    (corpus / "other.txt").write_text("date 2025-01-02\nA note beside the folder\n\nThe harbour reopened on Monday.")
    first = service.ingest([corpus], progress=False)
    lock_folder(corpus / "news", monkeypatch)

    report = service.ingest([corpus], progress=False)
    assert report.removed == [] and report.unchanged == 1
    assert report.skipped == [("news", "cannot read folder: Permission denied")]
    assert service.store.counts()[0] == len(first.added) == 8


def test_every_stored_sentence_of_a_passage_is_read_back_in_order(service, tmp_path):
    """Sentences are read by id up to a bound guessed from the passage's text; a passage with more sentences
    than its text suggests (here: its text stripped of every mark) is read whole all the same."""
    corpus = tmp_path / "corpus"
    shutil.copytree(ARTICLES, corpus)
    service.ingest([corpus], progress=False)
    passages = list(service.store.all_passages())
    expected = {}
    for passage in passages:
        got = service.store.sentences.get(where={"passage_id": passage.passage_id}, include=["metadatas"])
        expected[passage.passage_id] = sorted((m["n"], json.loads(m["analysis"])[0]) for m in got["metadatas"])
    assert max(len(rows) for rows in expected.values()) > 5
    for shown in (passages, [replace(p, text="no marks at all") for p in passages]):
        found = service.store.sentences_of(shown)
        assert {pid: [s.analysis.start for s in sentences] for pid, sentences in found.items()} == {
            pid: [start for _, start in rows] for pid, rows in expected.items()}


def test_passages_are_stored_without_llama_indexs_node_json(service):
    service.ingest([ARTICLES], progress=False)
    metadata = service.store.passages.get(limit=1, include=["metadatas"])["metadatas"][0]
    assert sorted(metadata) == ["article_id", "date", "date_num", "end", "index", "section", "source", "start",
                                "title", "url"]


def test_a_store_written_through_llama_index_reads_the_same(service):
    """Stores written before hold each passage as llama-index's ChromaVectorStore wrote it (its node again as
    JSON, and its ids, in the metadata): they read, search and answer as stores written now do."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    questions = [json.loads(line)["question"] for line in FIXTURE_QUESTIONS.read_text().splitlines()[:8]]
    service.ingest([ARTICLES], progress=False)
    now = read_back(service, questions)
    got = service.store.passages.get(include=["metadatas", "documents"])
    service.store.passages.update(ids=got["ids"], metadatas=[node_to_metadata_dict(TextNode(
        id_=pid, text=text, metadata=meta, start_char_idx=meta["start"], end_char_idx=meta["end"],
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=meta["article_id"])}),
        remove_text=True) for pid, meta, text in zip(got["ids"], got["metadatas"], got["documents"])])
    service.store.bump_generation()  # the keyword index is built again, from the records as they are now
    assert "_node_content" in service.store.passages.get(limit=1, include=["metadatas"])["metadatas"][0]
    assert read_back(service, questions) == now


def read_back(service, questions) -> tuple[list, list]:
    passages = sorted((p.to_dict() for p in service.store.all_passages()), key=lambda p: p["passage_id"])
    answers = [service.ask(question).to_dict() for question in questions]
    return passages, [{k: v for k, v in answer.items() if k != "timings_ms"} for answer in answers]


def test_a_passages_sentences_are_stored_with_the_vectors_pooled_from_its_pass(service):
    service.ingest([ARTICLES], progress=False)
    passages = list(service.store.all_passages())
    articles = {a.id: a for a in load_articles(ARTICLES).articles}
    chunked = dict(Ingestor(service.store, service.embedder, service.analyzer, service.settings).chunked(
        list(articles.values())))
    stored = service.store.sentences_of(passages)
    for passage in passages[:6]:
        article = articles[passage.article_id]
        chunk = next(c for c in chunked[article] if c.start == passage.start)
        text = embedding_text(article, chunk)
        shift = len(text) - len(chunk.text) - chunk.start
        _, (pooled,) = service.embedder.embed_with_spans(
            [text], [[(s.start + shift, s.end + shift) for s in chunk.sentences]])
        got = np.stack([s.vector for s in stored[passage.passage_id]])
        assert np.allclose(got, pooled, atol=1e-6)
        alone = service.embedder.embed([article.body[s.start:s.end] for s in chunk.sentences])
        assert not np.allclose(got, alone, atol=1e-3), "not embedded one by one"


def test_a_process_that_only_ingests_leaves_a_core_to_the_analysis():
    settings = load_settings(env={})
    assert ingestion_settings(settings).embedding_threads == max(1, available_cores() - 1)
    assert ingestion_settings(settings.replace(embedding_threads=3)).embedding_threads == 3, "a set value stays"


def test_an_article_stored_by_an_older_analysis_is_analyzed_and_embedded_again(service, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ARTICLES, corpus)
    service.ingest([corpus], progress=False)
    old = service.store.articles.get(ids=["rail-strike"], include=["metadatas"])["metadatas"][0]
    service.store.articles.update(ids=["rail-strike"], metadatas=[{**old, "analysis_version": ANALYSIS_VERSION - 1}])
    again = service.ingest([corpus], progress=False)
    assert again.updated == ["rail-strike"] and again.added == [] and again.unchanged == 6
    assert service.store.article_states()["rail-strike"].analysis_version == ANALYSIS_VERSION
