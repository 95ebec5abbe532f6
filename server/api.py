"""JSON API: each route parses its input, makes one service call and serializes the result."""

from __future__ import annotations

import json
from typing import Any, Iterator

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from rag.errors import BadRequest, IndexNotReady, PayloadTooLarge, UnsupportedMediaType, rag_error
from rag.models import Event, Passages, Token
from server.request_models import parsed

api = Blueprint("api", __name__, url_prefix="/api")


def _service():
    return current_app.extensions["rag_service"]


def _models():
    return current_app.extensions["request_models"]


def json_body(limit: int | None = None) -> Any:
    """The body as JSON of valid text, up to `limit` bytes (default: the app's MAX_CONTENT_LENGTH): 415 unless
    sent as JSON, 400 when not JSON, nested too deeply for the parser, or holding an unpaired surrogate
    (\\ud800), which no text encoding can carry."""
    if not request.is_json:
        raise UnsupportedMediaType("send the body as JSON, with 'Content-Type: application/json'")
    if limit is not None:
        request.max_content_length = limit
    body = request.get_data()  # refused on Content-Length over the limit, read no further than the limit
    if request.content_length is None and len(body) >= request.max_content_length:
        raise PayloadTooLarge("the request body is too large")  # a chunked body, cut at the limit
    try:
        data = json.loads(body)
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("the body holds an unpaired surrogate (such as \\ud800), which is not text") from None
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON (or is nested too deeply)") from None
    return data


@api.post("/ask")
def ask():
    asked = parsed(_models().ask, json_body())
    stream = asked.stream if "stream" in asked.model_fields_set else \
        request.accept_mimetypes.best == "text/event-stream"  # an explicit false wins
    if stream:
        events = _service().ask_stream(**asked.query())  # an empty index raises here, as JSON
        return Response(stream_with_context(server_sent_events(events)), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    return jsonify(_service().ask(**asked.query()).to_dict())


def server_sent_events(events: Iterator[Event]) -> Iterator[str]:
    """`event: NAME` / `data: JSON` frames of the events; a failure mid-stream becomes an `error` event."""
    try:
        for event in events:
            for name, data in event_frames(event):
                yield f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
    except Exception as exc:
        yield f"event: error\ndata: {json.dumps(rag_error(exc).to_dict())}\n\n"


def event_frames(event: Event) -> list[tuple[str, dict]]:
    """The frames of one event; the finished answer is three: answer, citations, done."""
    if isinstance(event, Passages):
        return [("passages", {"passages": [p.to_dict() for p in event.passages]})]
    if isinstance(event, Token):
        return [("token", {"text": event.text})]
    data = event.to_dict()
    fields = ("short_answer", "answer", "answered", "answerer", "notice", "standalone_question", "check")
    return [("answer", {k: data[k] for k in fields}), ("citations", {"citations": data["citations"]}),
            ("done", {"timings_ms": data["timings_ms"]})]


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


@api.get("/articles")
def article_origins():
    """The stored articles' ids and origins, a page at a time: ?under=PATH (repeatable), ?after=ID, ?limit=N."""
    args = request.args
    query = parsed(_models().articles, {"under": args.getlist("under"),
                                        **{name: args[name] for name in ("after", "limit") if name in args}})
    return jsonify(_service().article_origins(query.under, query.after, query.limit))


@api.post("/articles")
def add_articles():
    """One article {id, title, body, published_at, source, url} or a list of them: added, or updated when
    changed; 200 with the report (skipped records and why), 400 when no record is usable."""
    records = json_body(current_app.config["MAX_ARTICLES_BODY_BYTES"])
    if not isinstance(records, (dict, list)):
        raise BadRequest("send one article object {id, body, ...} or a list of them")
    return jsonify(_service().add_articles(records).to_dict())


@api.post("/articles/delete")
def remove_articles():
    """{"ids": [...]}: remove these articles together; the report lists those removed (unknown ids are not)."""
    removal = parsed(_models().delete, json_body(current_app.config["MAX_ARTICLES_BODY_BYTES"]))
    return jsonify(_service().remove_articles(removal.ids).to_dict())


@api.delete("/articles/<path:article_id>")
def remove_article(article_id: str):
    return jsonify(_service().remove_article(article_id).to_dict())


@api.get("/sources")
def sources():
    return jsonify(_service().sources())


@api.get("/openapi.json")
def openapi_description():
    from server.openapi import openapi

    return jsonify(openapi(_models(), current_app.config["MAX_ARTICLES_BODY_BYTES"]))
