"""JSON API: each route parses its input, makes one service call and serializes the result."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from rag.errors import BadRequest, IndexNotReady
from rag.service import filters_from_dict, history_from_list

api = Blueprint("api", __name__, url_prefix="/api")

ASK_FIELDS = {"question", "history", "filters", "top_k", "stream"}


def _service():
    return current_app.extensions["rag_service"]


def json_object() -> dict:
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object, e.g. {\"question\": \"...\"}")
    return data


@api.post("/ask")
def ask():
    data = json_object()
    unknown = set(data) - ASK_FIELDS
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(ASK_FIELDS))}")
    if "question" not in data:
        raise BadRequest("'question' is required")
    service = _service()
    history = history_from_list(data.get("history"), service.settings.max_question_chars * 4)
    answer = service.ask(data["question"], history=history, filters=filters_from_dict(data.get("filters")),
                         top_k=data.get("top_k"))
    return jsonify(answer.to_dict())


@api.get("/health")
def health():
    return jsonify(_service().health())


@api.get("/ready")
def ready():
    health = _service().health()
    if not health["ready"]:
        raise IndexNotReady(health["message"])
    return jsonify(health)


@api.get("/articles/<path:article_id>")
def article(article_id: str):
    return jsonify(_service().article(article_id).to_dict())


@api.get("/sources")
def sources():
    return jsonify(_service().sources())
