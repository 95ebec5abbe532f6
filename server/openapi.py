"""The OpenAPI 3.0 description of the JSON API, served at /api/openapi.json and fuzzed by the tests.

The requests are described by their models (server/request_models.py), with the running server's limits; the
responses by the schemas below, in the shapes the dataclasses' to_dict() write.
"""

from __future__ import annotations

from types import SimpleNamespace

from pydantic.json_schema import GenerateJsonSchema, models_json_schema

ERROR_STATUSES = {
    "400": "Bad input: not a JSON object, a wrong type, an unknown field, an empty question; or a Host header "
           "naming a host the server does not answer to (code host_not_allowed).",
    "401": "An API key is required (settings api_keys) and was missing or wrong.",
    "404": "No such article or endpoint.",
    "409": "Another ingestion is writing to the store (code ingest_locked); try again once it is done.",
    "413": "The body, the question or a history turn is too large.",
    "415": "The body was not sent as JSON (Content-Type: application/json).",
    "429": "Too many requests from this client; see the Retry-After header.",
    "500": "Unexpected failure; the message never holds internals.",
    "502": "The configured language model failed (only with llm_fallback off).",
    "503": "The index is empty or the store is unreachable.",
    "504": "The configured language model did not answer in time (only with llm_fallback off).",
}
REF = "#/components/schemas/{model}"
STRING, INTEGER, NUMBER, BOOLEAN = ({"type": kind} for kind in ("string", "integer", "number", "boolean"))
ARTICLE_ID = {"name": "article_id", "in": "path", "required": True,
              "schema": {"type": "string", "minLength": 1, "maxLength": 500}}


def _ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: str) -> dict:
    return {status: {"$ref": f"#/components/responses/E{status}"} for status in statuses}


def _nullable(kind: str, **extra) -> dict:
    return {"type": kind, "nullable": True, **extra}


def _object(properties: dict, *optional: str) -> dict:
    """An object of these properties, all required but the optional ones."""
    return {"type": "object", "required": [name for name in properties if name not in optional],
            "properties": properties}


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


def _operation(summary: str, ok: dict, errors: str, body: dict | None = None, **more) -> dict:
    """An operation answering 200 with `ok`, or one of `errors` ("400 401 ..."); `body`: its JSON body's schema."""
    request = {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}} if body else {}
    return {"summary": summary, **more, **request, "responses": {"200": ok, **_errors(*errors.split())}}


class DescribedSchema(GenerateJsonSchema):
    """pydantic's JSON Schema in OpenAPI 3.0's dialect: `T | None` as `nullable` (beside T's limits), a single
    allowed value as an `enum`."""

    def nullable_schema(self, schema) -> dict:
        inner = self.generate_inner(schema["schema"])
        return {**inner, "nullable": True} if "type" in inner else {"allOf": [inner], "nullable": True}

    def literal_schema(self, schema) -> dict:
        described = super().literal_schema(schema)
        if "const" in described:
            described["enum"] = [described.pop("const")]
        return described


def request_schemas(models: SimpleNamespace) -> dict:
    """The request bodies' schemas and those they refer to, by name (AskRequest, Turn, Filters, ...)."""
    _, schema = models_json_schema([(model, "validation") for model in (models.ask, models.chat, models.delete)],
                                   ref_template=REF, schema_generator=DescribedSchema)
    return schema["$defs"]


def _query_parameters(model) -> list[dict]:
    fields = model.model_json_schema(ref_template=REF, schema_generator=DescribedSchema)["properties"]
    return [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in fields.items()]


def response_schemas() -> dict:
    passage = {"passage_id": STRING, "article_id": STRING, "title": STRING, "text": STRING,
               "start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 0},
               "date": _nullable("string", format="date"), "source": _nullable("string"), "url": _nullable("string")}
    return {
        "Error": _object({"error": _object({"status": INTEGER, "code": STRING, "message": STRING})}),
        "ArticleRecord": {**_object({
            "id": {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 500, "pattern": r"\S"}, INTEGER]},
            "body": {"type": "string", "pattern": r"\S"}, "title": _nullable("string"),
            "published_at": {**_nullable("string", description="The article's date, YYYY-MM-DD (empty or null: "
                                                               "undated)."),
                             "anyOf": [{"format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}, {"maxLength": 0}]},
            "source": _nullable("string"), "url": _nullable("string"),
            "origin": _nullable("string", description="Where it came from (newsrag ingest: its file)."),
        }, "title", "published_at", "source", "url", "origin"),
            "description": "An article in the shape of a .json file's records; other fields are ignored."},
        "IngestReport": _object({
            **{name: {"type": "integer", "minimum": 0}
               for name in ("added", "updated", "removed", "unchanged", "passages_written")},
            "skipped": _array(_object({"file": {**STRING, "description": "record N of the request"},
                                       "reason": STRING})),
            "seconds": NUMBER}),
        "Passage": _object({**passage, "score": NUMBER, "rank": INTEGER}, "score", "rank"),
        "Citation": _object({"n": {"type": "integer", "minimum": 1}, **passage,
                             "highlights": _array(_object({"start": INTEGER, "end": INTEGER}))}),
        "Answer": _object({
            "question": STRING, "standalone_question": STRING,
            "answer": {**STRING, "description": "Sentences ending in [n] markers (n = citation)."},
            "answered": {**BOOLEAN, "description": "False when the corpus does not hold the answer."},
            "answerer": {**STRING, "description": "Which answerer produced the answer."},
            "notice": _nullable("string", description="Why the answer differs from what was asked for."),
            "citations": _array(_ref("Citation")), "passages": _array(_ref("Passage")),
            "timings_ms": {"type": "object", "additionalProperties": NUMBER},
            "check": _nullable("object", description="Generated answers: the model's text, the sentences removed "
                               "and why, dropped markers, whether it fell back (null: extractive)."),
        }, "check"),
        "Health": _object({"status": STRING, "ready": BOOLEAN, "articles": INTEGER, "passages": INTEGER,
                           "model": STRING, "store": STRING, "answerer": STRING, "message": STRING},
                          "model", "store", "answerer", "message"),
        "Article": _object({"id": STRING, "title": STRING, "date": _nullable("string", format="date"),
                            "source": _nullable("string"), "url": _nullable("string"), "body": STRING}),
        "ChatCompletion": _object({
            "id": STRING, "object": {**STRING, "enum": ["chat.completion"]}, "created": INTEGER, "model": STRING,
            "choices": _array({"type": "object"}), "usage": {"type": "object", "additionalProperties": INTEGER},
            "sources": _array(_ref("Citation")),
            "answerer": STRING, "notice": _nullable("string"), "answered": BOOLEAN,
        }, "answerer", "notice", "answered"),
        "Sources": _object({
            "sources": _array(_object({"name": STRING, "articles": INTEGER})),
            "dates": {"type": "object", "properties": {"min": _nullable("string"), "max": _nullable("string")}}}),
    }


def openapi(models: SimpleNamespace, max_articles_body_bytes: int) -> dict:
    events = {"type": "object", "required": ["event", "data"],
              "description": "Events in order: passages, token..., answer, citations, done; or error. Each data is "
                             "a JSON object.",
              "properties": {"event": {**STRING, "enum": ["passages", "token", "answer", "citations", "done",
                                                          "error"]}, "data": STRING}}
    chunks = {"type": "object", "required": ["data"], "properties": {"event": STRING, "data": STRING}}
    page = _object({"articles": _array(_object({"id": STRING, "origin": STRING})),
                    "next": _nullable("string", description="Where the next page starts; null on the last.")})
    models_list = _object({"object": STRING, "data": _array({"type": "object"})})
    return {
        "openapi": "3.0.3",
        "info": {"title": "newsrag", "version": "1",
                 "description": "Questions answered from a corpus of news articles, every claim cited."},
        "components": {
            "schemas": {**request_schemas(models), **response_schemas()},
            "responses": {f"E{status}": _json(_ref("Error"), text) for status, text in ERROR_STATUSES.items()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
        "security": [{}, {"bearer": []}, {"apiKey": []}],
        "paths": {
            "/api/ask": {"post": _operation(
                "Answer a question from the corpus, with citations.",
                {"description": "The answer with its citations, or server-sent events when streaming.",
                 "content": {"application/json": {"schema": _ref("Answer")}, "text/event-stream": {"schema": events}}},
                "400 401 413 415 429 500 502 503 504", _ref("AskRequest"))},
            "/api/health": {"get": _operation(
                "Liveness, and what the index holds (always 200 while the process serves).",
                _json(_ref("Health"), "The server is up."), "400 500", security=[{}])},
            "/api/ready": {"get": _operation(
                "Readiness for a load balancer: 200 only once the model and a non-empty index are loaded.",
                _json(_ref("Health"), "Ready to answer."), "400 500 503", security=[{}])},
            "/api/sources": {"get": _operation(
                "The corpus's sources (with article counts) and its date range, for filters.",
                _json(_ref("Sources"), "Sources and dates."), "400 401 429 500 503")},
            "/v1/chat/completions": {"post": _operation(
                "OpenAI-compatible chat completion over the corpus, with the citations in `sources`.",
                {"description": "A chat.completion, or chat.completion.chunk events ending with `data: [DONE]` when "
                                "streaming.",
                 "content": {"application/json": {"schema": _ref("ChatCompletion")},
                             "text/event-stream": {"schema": chunks}}},
                "400 401 413 415 429 500 502 503 504", _ref("ChatRequest"))},
            "/v1/models": {"get": _operation("The one model this server offers: newsrag.",
                                             _json(models_list, "The model list."), "400 401 429 500")},
            "/api/articles": {"get": _operation(
                "The stored articles' ids and the files they were read from (origin; `api` for an article sent "
                "without one), in id order, a page at a time.",
                _json(page, "A page of articles."), "400 401 429 500 503",
                parameters=_query_parameters(models.articles)),
                "post": _operation(
                f"Add articles, or update changed ones: one record or a list (body up to {max_articles_body_bytes} "
                "bytes). Records that cannot be used are skipped and listed with the reason; 400 when none can.",
                _json(_ref("IngestReport"), "What was added, updated, unchanged, skipped."),
                "400 401 409 413 415 429 500 503",
                {"oneOf": [_ref("ArticleRecord"), {**_array(_ref("ArticleRecord")), "minItems": 1}]})},
            "/api/articles/delete": {"post": _operation(
                "Remove these articles and their passages together (what `newsrag ingest` removes through a running "
                "server). Ids with no article are not counted.",
                _json(_ref("IngestReport"), "How many articles were removed."), "400 401 409 413 415 429 500 503",
                _ref("DeleteRequest"))},
            "/api/articles/{article_id}": {
                "get": _operation("One whole article by id.", _json(_ref("Article"), "The article."),
                                  "400 401 404 429 500 503", parameters=[ARTICLE_ID]),
                "delete": _operation("Remove an article and its passages.",
                                     _json(_ref("IngestReport"), "The article was removed (removed: 1)."),
                                     "400 401 404 409 429 500 503", parameters=[ARTICLE_ID])},
        },
    }
