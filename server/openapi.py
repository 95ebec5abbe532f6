"""The OpenAPI 3.0 description of the JSON API, served at /api/openapi.json and fuzzed by the tests.

The requests are described by their models (server/request_models.py), with the running server's limits; the
responses by the schemas below.
"""

from __future__ import annotations

from types import SimpleNamespace

from pydantic.json_schema import GenerateJsonSchema, models_json_schema

REF = "#/components/schemas/{model}"

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


ARTICLE_ID = {"name": "article_id", "in": "path", "required": True,
              "schema": {"type": "string", "minLength": 1, "maxLength": 500}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: str) -> dict:
    return {status: {"$ref": f"#/components/responses/E{status}"} for status in statuses}


def _nullable(kind: str, **extra) -> dict:
    return {"type": kind, "nullable": True, **extra}


def _date_or_empty(description: str) -> dict:
    return {"type": "string", "nullable": True, "description": description,
            "anyOf": [{"format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}, {"maxLength": 0}]}


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


def openapi(models: SimpleNamespace, max_articles_body_bytes: int) -> dict:
    passage_fields = {
        "passage_id": {"type": "string"}, "article_id": {"type": "string"}, "title": {"type": "string"},
        "text": {"type": "string"}, "start": {"type": "integer", "minimum": 0},
        "end": {"type": "integer", "minimum": 0}, "date": _nullable("string", format="date"),
        "source": _nullable("string"), "url": _nullable("string"),
    }
    schemas = {
        **request_schemas(models),
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["status", "code", "message"],
                "properties": {"status": {"type": "integer"}, "code": {"type": "string"},
                               "message": {"type": "string"}}}},
        },
        "ArticleRecord": {
            "type": "object", "required": ["id", "body"],
            "description": "An article in the shape of a .json file's records; other fields are ignored.",
            "properties": {
                "id": {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 500, "pattern": r"\S"},
                                 {"type": "integer"}]},
                "body": {"type": "string", "pattern": r"\S"}, "title": _nullable("string"),
                "published_at": _date_or_empty("The article's date, YYYY-MM-DD (empty or null: undated)."),
                "source": _nullable("string"), "url": _nullable("string"),
                "origin": _nullable("string", description="Where it came from (newsrag ingest: its file)."),
            },
        },
        "IngestReport": {
            "type": "object", "required": ["added", "updated", "removed", "unchanged", "passages_written",
                                           "skipped", "seconds"],
            "properties": {
                **{name: {"type": "integer", "minimum": 0}
                   for name in ("added", "updated", "removed", "unchanged", "passages_written")},
                "skipped": {"type": "array", "items": {
                    "type": "object", "required": ["file", "reason"],
                    "properties": {"file": {"type": "string", "description": "record N of the request"},
                                   "reason": {"type": "string"}}}},
                "seconds": {"type": "number"},
            },
        },
        "Passage": {"type": "object", "required": list(passage_fields),
                    "properties": {**passage_fields, "score": {"type": "number"}, "rank": {"type": "integer"}}},
        "Citation": {
            "type": "object", "required": ["n", *passage_fields, "highlights"],
            "properties": {
                "n": {"type": "integer", "minimum": 1}, **passage_fields,
                "highlights": {"type": "array", "items": {
                    "type": "object", "required": ["start", "end"],
                    "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}}}},
            },
        },
        "Answer": {
            "type": "object",
            "required": ["question", "standalone_question", "answer", "answered", "answerer", "notice",
                         "citations", "passages", "timings_ms"],
            "properties": {
                "question": {"type": "string"}, "standalone_question": {"type": "string"},
                "answer": {"type": "string", "description": "Sentences ending in [n] markers (n = citation)."},
                "answered": {"type": "boolean", "description": "False when the corpus does not hold the answer."},
                "answerer": {"type": "string", "description": "Which answerer produced the answer."},
                "notice": _nullable("string", description="Why the answer differs from what was asked for."),
                "citations": {"type": "array", "items": _ref("Citation")},
                "passages": {"type": "array", "items": _ref("Passage")},
                "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}},
                "check": _nullable("object", description="Generated answers: the model's text, the sentences "
                                   "removed and why, dropped markers, whether it fell back (null: extractive)."),
            },
        },
        "Health": {
            "type": "object", "required": ["status", "ready", "articles", "passages"],
            "properties": {"status": {"type": "string"}, "ready": {"type": "boolean"},
                           "articles": {"type": "integer"}, "passages": {"type": "integer"},
                           "model": {"type": "string"}, "store": {"type": "string"},
                           "answerer": {"type": "string"},
                           "message": {"type": "string"}},
        },
        "Article": {
            "type": "object", "required": ["id", "title", "date", "source", "url", "body"],
            "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                           "date": _nullable("string", format="date"), "source": _nullable("string"),
                           "url": _nullable("string"), "body": {"type": "string"}},
        },
        "ChatCompletion": {
            "type": "object", "required": ["id", "object", "created", "model", "choices", "usage", "sources"],
            "properties": {
                "id": {"type": "string"}, "object": {"type": "string", "enum": ["chat.completion"]},
                "created": {"type": "integer"}, "model": {"type": "string"},
                "choices": {"type": "array", "items": {"type": "object"}},
                "usage": {"type": "object", "additionalProperties": {"type": "integer"}},
                "sources": {"type": "array", "items": _ref("Citation")},
                "answerer": {"type": "string"}, "notice": _nullable("string"), "answered": {"type": "boolean"},
            },
        },
        "Sources": {
            "type": "object", "required": ["sources", "dates"],
            "properties": {
                "sources": {"type": "array", "items": {
                    "type": "object", "required": ["name", "articles"],
                    "properties": {"name": {"type": "string"}, "articles": {"type": "integer"}}}},
                "dates": {"type": "object", "properties": {"min": _nullable("string"), "max": _nullable("string")}},
            },
        },
    }
    responses = {f"E{status}": _json(_ref("Error"), text) for status, text in ERROR_STATUSES.items()}
    ask_ok = {
        "description": "The answer with its citations, or server-sent events when streaming.",
        "content": {"application/json": {"schema": _ref("Answer")},
                    "text/event-stream": {"schema": {
                        "type": "object", "required": ["event", "data"],
                        "description": "Events in order: passages, token..., answer, citations, done; or error. "
                                       "Each data is a JSON object.",
                        "properties": {"event": {"type": "string", "enum": [
                                           "passages", "token", "answer", "citations", "done", "error"]},
                                       "data": {"type": "string"}}}}},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "newsrag", "version": "1",
                 "description": "Questions answered from a corpus of news articles, every claim cited."},
        "components": {
            "schemas": schemas, "responses": responses,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
        "security": [{}, {"bearer": []}, {"apiKey": []}],
        "paths": {
            "/api/ask": {"post": {
                "summary": "Answer a question from the corpus, with citations.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("AskRequest")}}},
                "responses": {"200": ask_ok, **_errors("400", "401", "413", "415", "429", "500", "502", "503", "504")},
            }},
            "/api/health": {"get": {
                "summary": "Liveness, and what the index holds (always 200 while the process serves).",
                "security": [{}],
                "responses": {"200": _json(_ref("Health"), "The server is up."), **_errors("400", "500")},
            }},
            "/api/ready": {"get": {
                "summary": "Readiness for a load balancer: 200 only once the model and a non-empty index are loaded.",
                "security": [{}],
                "responses": {"200": _json(_ref("Health"), "Ready to answer."), **_errors("400", "500", "503")},
            }},
            "/api/sources": {"get": {
                "summary": "The corpus's sources (with article counts) and its date range, for filters.",
                "responses": {"200": _json(_ref("Sources"), "Sources and dates."), **_errors("400", "401", "429", "500", "503")},
            }},
            "/v1/chat/completions": {"post": {
                "summary": "OpenAI-compatible chat completion over the corpus, with the citations in `sources`.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ChatRequest")}}},
                "responses": {"200": {"description": "A chat.completion, or chat.completion.chunk events ending "
                                                     "with `data: [DONE]` when streaming.",
                                      "content": {"application/json": {"schema": _ref("ChatCompletion")},
                                                  "text/event-stream": {"schema": {
                                                      "type": "object", "required": ["data"],
                                                      "properties": {"event": {"type": "string"},
                                                                     "data": {"type": "string"}}}}}},
                              **_errors("400", "401", "413", "415", "429", "500", "502", "503", "504")},
            }},
            "/v1/models": {"get": {
                "summary": "The one model this server offers: newsrag.",
                "responses": {"200": _json({"type": "object", "required": ["object", "data"],
                                            "properties": {"object": {"type": "string"},
                                                           "data": {"type": "array", "items": {"type": "object"}}}},
                                           "The model list."), **_errors("400", "401", "429", "500")},
            }},
            "/api/articles": {"get": {
                "summary": "The stored articles' ids and the files they were read from (origin; `api` for an "
                           "article sent without one), in id order, a page at a time.",
                "parameters": _query_parameters(models.articles),
                "responses": {"200": _json({"type": "object", "required": ["articles", "next"], "properties": {
                    "articles": {"type": "array", "items": {
                        "type": "object", "required": ["id", "origin"],
                        "properties": {"id": {"type": "string"}, "origin": {"type": "string"}}}},
                    "next": _nullable("string", description="Where the next page starts; null on the last.")}},
                    "A page of articles."), **_errors("400", "401", "429", "500", "503")},
            }, "post": {
                "summary": "Add articles, or update changed ones: one record or a list "
                           f"(body up to {max_articles_body_bytes} bytes). Records that cannot be used "
                           "are skipped and listed with the reason; 400 when none can.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "oneOf": [_ref("ArticleRecord"), {"type": "array", "minItems": 1, "items": _ref("ArticleRecord")}]}}}},
                "responses": {"200": _json(_ref("IngestReport"), "What was added, updated, unchanged, skipped."),
                              **_errors("400", "401", "409", "413", "415", "429", "500", "503")},
            }},
            "/api/articles/delete": {"post": {
                "summary": "Remove these articles and their passages together (what `newsrag ingest` removes "
                           "through a running server). Ids with no article are not counted.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("DeleteRequest")}}},
                "responses": {"200": _json(_ref("IngestReport"), "How many articles were removed."),
                              **_errors("400", "401", "409", "413", "415", "429", "500", "503")},
            }},
            "/api/articles/{article_id}": {"get": {
                "summary": "One whole article by id.",
                "parameters": [ARTICLE_ID],
                "responses": {"200": _json(_ref("Article"), "The article."),
                              **_errors("400", "401", "404", "429", "500", "503")},
            }, "delete": {
                "summary": "Remove an article and its passages.",
                "parameters": [ARTICLE_ID],
                "responses": {"200": _json(_ref("IngestReport"), "The article was removed (removed: 1)."),
                              **_errors("400", "401", "404", "409", "429", "500", "503")},
            }},
        },
    }
