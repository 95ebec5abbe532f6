"""The JSON API through Flask's test client: shapes, statuses and one error format."""

import io

import pytest

from server import create_app
from tests.conftest import FailingService


def assert_error(response, status, code):
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["status"] == status and body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]["message"]


def test_ask_returns_answer_citations_passages_and_timings(client):
    response = client.post("/api/ask", json={"question": "Who did Ilse Varga meet in Amberlin?", "top_k": 4})
    assert response.status_code == 200
    body = response.get_json()
    assert "Dario Kellan" in body["answer"] and body["answered"] is True
    assert len(body["passages"]) == 4
    citation = body["citations"][0]
    assert {"n", "article_id", "title", "date", "source", "url", "text", "start", "end", "highlights"} <= set(citation)
    assert citation["article_id"] in {"harbor-accord", "harbor-accord-followup"}
    assert set(body["timings_ms"]) >= {"retrieve", "answer", "total"}


def test_ask_with_history_and_filters(client):
    response = client.post("/api/ask", json={
        "question": "How many workers joined?", "filters": {"sources": ["Northern Courier"]},
        "history": [{"role": "user", "content": "Tell me about the Kaldor strike"}]})
    assert response.status_code == 200
    assert {p["article_id"] for p in response.get_json()["passages"]} == {"rail-strike"}


@pytest.mark.parametrize("payload, message_part", [
    ({"question": ""}, "empty"),
    ({"question": "   "}, "empty"),
    ({}, "required"),
    ({"question": 42}, "string"),
    ({"question": "ok", "top_k": 0}, "top_k"),
    ({"question": "ok", "top_k": "5"}, "'top_k' must be a whole number from 1 to 20"),
    ({"question": "ok", "history": "nope"}, "history"),
    ({"question": "ok", "history": [{"role": "robot", "content": "x"}]}, "'role' of item 1 of 'history'"),
    ({"question": "ok", "filters": {"date_from": "March"}}, "date_from"),
    ({"question": "ok", "filters": {"date_from": "2025-02-01", "date_to": "2025-01-01"}}, "after"),
    ({"question": "ok", "filters": {"colour": "red"}}, "colour; allowed: date_from, date_to, sources"),
    ({"question": "ok", "surprise": 1}, "unknown field"),
])
def test_bad_requests_get_400_with_a_reason(client, payload, message_part):
    message = assert_error(client.post("/api/ask", json=payload), 400, "bad_request")
    assert message_part in message


def test_body_that_is_not_a_json_object_is_400(client):
    assert_error(client.post("/api/ask", data="question=hi", content_type="application/json"), 400, "bad_request")
    assert_error(client.post("/api/ask", json=["question"]), 400, "bad_request")


@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions"])
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_sent_as_json_is_415(client, path, content_type):
    body = '{"question": "Who is the mayor?", "messages": [{"role": "user", "content": "Who is the mayor?"}]}'
    response = client.post(path, data=body, content_type=content_type)
    assert "JSON" in assert_error(response, 415, "unsupported_media_type")


LONE_SURROGATE = '"Who is the mayor \\ud800?"'  # JSON text that decodes to a string no encoding can carry


@pytest.mark.parametrize("path, body", [
    ("/api/ask", '{"question": %s}' % LONE_SURROGATE),
    ("/api/ask", '{"question": %s, "stream": true}' % LONE_SURROGATE),
    ("/api/ask", '{"question": "ok", "history": [{"role": "user", "content": %s}]}' % LONE_SURROGATE),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": %s}]}' % LONE_SURROGATE),
    ("/v1/chat/completions", '{"model": %s, "stream": true, "messages": [{"role": "user", "content": "Mayor?"}]}'
     % LONE_SURROGATE),
    ("/api/ask", '{"question": "ok", "filters": %s%s}' % ("[" * 5000, "]" * 5000)),
    ("/api/ask", "[" * 30_000),
])
def test_unpaired_surrogates_and_deep_nesting_are_400(client, path, body):
    response = client.post(path, data=body, content_type="application/json")
    assert_error(response, 400, "bad_request")


def test_oversized_question_and_body_are_413(client, app):
    limit = app.extensions["rag_service"].settings.max_question_chars
    assert_error(client.post("/api/ask", json={"question": "a" * (limit + 1)}), 413, "payload_too_large")
    huge = {"question": "ok", "history": [{"role": "user", "content": "b" * 1000}] * 100}
    assert_error(client.post("/api/ask", json=huge), 413, "payload_too_large")


def test_unknown_routes_articles_and_methods(client):
    assert_error(client.get("/api/nothing"), 404, "not_found")
    assert "no-such-article" in assert_error(client.get("/api/articles/no-such-article"), 404, "not_found")
    response = client.get("/api/ask")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


class EndlessBody(io.RawIOBase):
    """A request body that never ends, counting what the server reads of it."""

    def __init__(self):
        self.bytes_read = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        buffer[:] = b" " * len(buffer)
        self.bytes_read += len(buffer)
        return len(buffer)


@pytest.mark.parametrize("environ", [{"CONTENT_LENGTH": "200000000"},  # refused before reading
                                     {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True}])
def test_a_huge_body_is_refused_without_reading_past_the_limit(client, app, environ):
    body = EndlessBody()
    response = client.post("/api/ask", content_type="application/json", environ_overrides={"wsgi.input": body, **environ})
    assert_error(response, 413, "payload_too_large")
    assert body.bytes_read <= app.config["MAX_CONTENT_LENGTH"]


def test_article_endpoint_serves_the_whole_article(client):
    body = client.get("/api/articles/harbor-accord-followup").get_json()
    assert body["id"] == "harbor-accord-followup" and body["date"] == "2025-03-14"
    assert body["body"].startswith("Ostmere and Serevia signed")


def test_health_sources_and_readiness(client):
    health = client.get("/api/health").get_json()
    assert health["ready"] is True and health["articles"] == 7 and health["passages"] >= 7
    sources = client.get("/api/sources").get_json()
    assert {"name": "Northern Courier", "articles": 1} in sources["sources"]
    assert sources["dates"] == {"min": "2024-10-09", "max": "2025-06-02"}
    assert client.get("/api/ready").status_code == 200


def test_empty_index_answers_503(service):
    client = create_app(service=service).test_client()
    assert_error(client.post("/api/ask", json={"question": "Anything?"}), 503, "index_not_ready")
    assert_error(client.get("/api/ready"), 503, "index_not_ready")
    assert client.get("/api/health").get_json()["ready"] is False


def test_unexpected_errors_are_500_without_internals(corpus_service):
    s = corpus_service
    client = create_app(service=FailingService(s.settings, s.store, s.embedder, s.retriever, s.answerer)).test_client()
    response = client.post("/api/ask", json={"question": "Who is the mayor?"})
    message = assert_error(response, 500, "internal_error")
    assert "simulated" not in message and "Traceback" not in response.get_data(as_text=True)


def test_page_is_served_with_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200 and b"<html" in response.data.lower()
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_explicit_stream_false_wins_over_the_accept_header(client):
    response = client.post("/api/ask", json={"question": "Who is the mayor of Merrowick?", "stream": False},
                           headers={"Accept": "text/event-stream"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    streamed = client.post("/api/ask", json={"question": "Who is the mayor of Merrowick?"},
                           headers={"Accept": "text/event-stream"})
    assert streamed.mimetype == "text/event-stream"
