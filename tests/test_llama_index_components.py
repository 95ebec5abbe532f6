"""rag.llamaindex: the retriever and the query engine give llama-index users what the service gives (real store,
real model), and the README's example runs as written."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest
from llama_index.core.retrievers import BaseRetriever

from rag.errors import BadRequest, PayloadTooLarge
from rag.llamaindex import NewsQueryEngine, NewsRetriever
from rag.models import Filters
from rag.store import passage_matches

QUESTIONS = ["Who did Ostmere's deputy foreign minister hold talks with in Amberlin?",
             "How many people were evacuated from Merrowick?",
             "How long will the rail strike last?"]
README = Path(__file__).parent.parent / "README.md"


@pytest.mark.parametrize("question", QUESTIONS)
def test_nodes_are_the_retrievers_passages_in_its_order(corpus_service, question):
    retriever = NewsRetriever(corpus_service, top_k=5)
    assert isinstance(retriever, BaseRetriever)
    hits = retriever.retrieve(question)
    passages = corpus_service.retriever.retrieve(question, 5).passages
    assert len(passages) == 5
    assert [h.node.node_id for h in hits] == [p.passage_id for p in passages]
    assert [h.score for h in hits] == [p.score for p in passages]
    for hit, passage in zip(hits, passages):
        assert hit.node.text == passage.text and hit.node.ref_doc_id == passage.article_id
        assert hit.node.metadata == {k: v for k, v in {
            "article_id": passage.article_id, "title": passage.title, "date": passage.date, "source": passage.source,
            "url": passage.url, "section": passage.section, "start": passage.start, "end": passage.end}.items()
            if v is not None}


@pytest.mark.parametrize("filters", [Filters(sources=("Northern Courier",)),
                                     Filters(date_from="2025-03-01", date_to="2025-03-31")], ids=["source", "dates"])
def test_filters_reach_the_retrieval(corpus_service, filters):
    question = "Who did Ostmere's deputy foreign minister hold talks with in Amberlin?"
    hits = NewsRetriever(corpus_service, top_k=10, filters=filters).retrieve(question)
    unfiltered = NewsRetriever(corpus_service, top_k=10).retrieve(question)
    passages = corpus_service.retriever.retrieve(question, 10, filters).passages
    assert hits and [h.node.node_id for h in hits] == [p.passage_id for p in passages]
    assert all(passage_matches(p, filters) for p in passages)
    assert any(h.node.node_id not in {p.passage_id for p in passages} for h in unfiltered)


@pytest.mark.parametrize("question", [*QUESTIONS, "What is the capital of Atlantis?"])
def test_the_query_engines_response_is_the_services_answer(corpus_service, question):
    response = NewsQueryEngine(corpus_service).query(question)
    answer = corpus_service.ask(question)
    assert response.response == answer.answer
    assert [h.node.node_id for h in response.source_nodes] == [c.passage.passage_id for c in answer.citations]
    assert [h.node.metadata["citation"] for h in response.source_nodes] == [c.n for c in answer.citations]
    assert [h.node.text for h in response.source_nodes] == [c.passage.text for c in answer.citations]
    short = answer.short_answer.to_dict() if answer.short_answer else None
    assert response.metadata == {"short_answer": short, "answered": answer.answered, "answerer": answer.answerer,
                                 "notice": answer.notice}
    assert bool(response.source_nodes) == answer.answered


def test_the_query_engine_passes_filters_and_top_k(corpus_service):
    question = "Who did Ostmere's deputy foreign minister hold talks with in Amberlin?"
    filters = Filters(date_from="2025-03-01", date_to="2025-03-31")
    response = NewsQueryEngine(corpus_service, top_k=2, filters=filters).query(question)
    answer = corpus_service.ask(question, filters=filters, top_k=2)
    assert response.response == answer.answer and len(answer.passages) == 2
    assert [h.node.node_id for h in response.source_nodes] == [c.passage.passage_id for c in answer.citations]
    assert all(h.node.metadata["date"].startswith("2025-03") for h in response.source_nodes)


def test_questions_and_top_k_are_checked_as_the_api_checks_them(corpus_service):
    limit = corpus_service.settings.max_question_chars
    for ask in (NewsRetriever(corpus_service).retrieve, NewsQueryEngine(corpus_service).query):
        with pytest.raises(BadRequest, match="the question is empty"):
            ask("   ")
        with pytest.raises(PayloadTooLarge, match=f"the limit is {limit}"):
            ask("x" * (limit + 1))
    for top_k in (0, corpus_service.settings.max_top_k + 1, True):
        with pytest.raises(BadRequest, match="'top_k' must be a whole number"):
            NewsRetriever(corpus_service, top_k=top_k)
    assert NewsQueryEngine(corpus_service).top_k == corpus_service.settings.top_k


def test_the_readme_example_runs(service, settings, monkeypatch, capsys):
    """The README's "Use from llama-index" code, run as written on a store of corpus/."""
    service.ingest([Path(__file__).parent.parent / "corpus"], progress=False)
    section = README.read_text().split("## Use from llama-index", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    for name in [name for name in os.environ if name.startswith("RAG_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RAG_DATA_DIR", settings.data_dir)
    exec(compile(code, str(README), "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines[:3]] == \
        [p.passage_id for p in service.retriever.retrieve("Who did Pak Myong Ho meet in Ulaanbaatar?", 3).passages]
    dates = ast.literal_eval(lines[3])
    assert dates and set(dates) == {"2024-03-11"}
    assert lines[4] == "Amartuvshin Gombosuren"
    assert "Amartuvshin Gombosuren" in lines[5] and "[1]" in lines[5]
    assert lines[6].startswith("1 ")
