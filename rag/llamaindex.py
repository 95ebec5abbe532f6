"""Our retrieval and answers as llama-index components, for llama-index users (README: "Use from llama-index").

NewsRetriever(service) is a llama-index retriever over the service's hybrid retrieval (dense + keyword, fused);
NewsQueryEngine(service) a query engine whose Response is the service's cited answer, with the passages it cites
as source nodes. Both wrap a RagService built by rag.service.build_service: nothing is loaded here.
"""

from __future__ import annotations

from llama_index.core.query_engine import BaseQueryEngine
from llama_index.core.response import Response
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode

from rag.errors import BadRequest
from rag.models import Answer, Filters, Passage
from rag.service import RagService, question_from

# kept out of the text llama-index gives an LLM or an embedding model (ids and offsets mean nothing to them)
_NOT_FOR_MODELS = ["article_id", "start", "end", "citation"]


class NewsRetriever(BaseRetriever):
    """The passages service.retriever finds for the question, in its order, as scored TextNodes (id: the passage
    id; ref_doc_id: the article id; metadata: article_id, title, date, source, url, section, start, end)."""

    def __init__(self, service: RagService, top_k: int | None = None, filters: Filters | None = None):
        super().__init__()
        self.service, self.filters, self.top_k = service, filters, _top_k(service, top_k)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        question = question_from(query_bundle.query_str, self.service.settings.max_question_chars)
        retrieval = self.service.retriever.retrieve(question, self.top_k, self.filters)
        return [node_from_passage(p) for p in retrieval.passages]


class NewsQueryEngine(BaseQueryEngine):
    """service.ask as a query engine: the Response's text is the answer with its [n] citations, its source nodes
    the passages cited ([1] first; metadata "citation" is n), its metadata the short answer (a ShortAnswer's
    dict, or None), whether the question was answered, by which answerer, and any notice."""

    def __init__(self, service: RagService, top_k: int | None = None, filters: Filters | None = None):
        super().__init__(callback_manager=None)
        self.service, self.filters, self.top_k = service, filters, _top_k(service, top_k)

    def _query(self, query_bundle: QueryBundle) -> Response:
        question = question_from(query_bundle.query_str, self.service.settings.max_question_chars)
        return response_from_answer(self.service.ask(question, filters=self.filters, top_k=self.top_k))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return self._query(query_bundle)

    def _get_prompt_modules(self) -> dict:
        return {}


def _top_k(service: RagService, top_k: int | None) -> int:
    """top_k as /api/ask takes it: 1 to max_top_k; None: the settings' top_k."""
    if top_k is None:
        return service.settings.top_k
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= service.settings.max_top_k:
        raise BadRequest(f"'top_k' must be a whole number from 1 to {service.settings.max_top_k}")
    return top_k


def node_from_passage(passage: Passage, **metadata) -> NodeWithScore:
    """The passage as a scored TextNode; its metadata leaves out what the passage lacks (no date: no "date")."""
    known = {"article_id": passage.article_id, "title": passage.title, "date": passage.date, "source": passage.source,
             "url": passage.url, "section": passage.section, "start": passage.start, "end": passage.end, **metadata}
    node = TextNode(id_=passage.passage_id, text=passage.text, start_char_idx=passage.start,
                    end_char_idx=passage.end, excluded_llm_metadata_keys=_NOT_FOR_MODELS,
                    excluded_embed_metadata_keys=_NOT_FOR_MODELS,
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=passage.article_id)},
                    metadata={key: value for key, value in known.items() if value is not None})
    return NodeWithScore(node=node, score=passage.score)


def response_from_answer(answer: Answer) -> Response:
    short = answer.short_answer.to_dict() if answer.short_answer else None
    return Response(answer.answer,
                    source_nodes=[node_from_passage(c.passage, citation=c.n) for c in answer.citations],
                    metadata={"short_answer": short, "answered": answer.answered, "answerer": answer.answerer,
                              "notice": answer.notice})
