"""Fuzz the API against its own OpenAPI description (schemathesis + hypothesis), on the real service:
no 5xx, every status one the description declares, every body in the declared shape."""

import re

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="install the test extra: scripts/test does")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from rag.service import RagService  # noqa: E402
from server import create_app  # noqa: E402
from rag.service import build_service  # noqa: E402
from tests.conftest import ARTICLES, clear_chroma_cache, make_settings  # noqa: E402


@pytest.fixture(scope="module")
def fuzzed_service(tmp_path_factory, embedder, analyzer):
    """The fixture articles on a store of the module's own: the fuzzer adds and deletes articles."""
    service = build_service(make_settings(tmp_path_factory.mktemp("fuzz-store")), embedder, analyzer)
    service.ingest([ARTICLES], progress=False)
    yield service
    clear_chroma_cache()


@pytest.fixture(scope="module")
def described_api(fuzzed_service):
    app = create_app(service=fuzzed_service)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api_conforms_to_its_description(described_api, mode):
    """Valid requests (positive) and requests that break the description (negative, which must get a 4xx)."""
    from schemathesis import GenerationMode

    @given(case=described_api.as_strategy(generation_mode=GenerationMode(mode)))
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case):
        response = case.call()
        assert response.status_code < 500, response.text
        if mode == "positive" and _dates_reversed(case.body):  # the description cannot compare two fields
            assert response.status_code == 400 and "after" in response.json()["error"]["message"]
            return
        # nor can it say that the last message must be a question
        if mode == "positive" and case.path == "/v1/chat/completions" and _no_question(case.body):
            assert response.status_code == 400, response.text
            return
        if case.path == "/api/articles" and case.method == "POST" and _records_skipped(mode, response):
            return
        if response.status_code == 413:  # too large: a rejection the negative-data check does not list
            assert response.json()["error"]["code"] == "payload_too_large"
            return
        case.validate_response(response)

    check()


def _records_skipped(mode: str, response) -> bool:
    """Records are checked one by one, as in files: one that breaks the description is skipped and listed
    (200, when others are usable); a record that fits it may still have no usable text (400, none usable)."""
    if mode == "negative" and response.status_code == 200:
        return bool(response.json()["skipped"])
    return mode == "positive" and response.status_code == 400 and \
        response.json()["error"]["message"].startswith("no usable article")


def _dates_reversed(body) -> bool:
    filters = body.get("filters") if isinstance(body, dict) else None
    if not isinstance(filters, dict):
        return False
    dates = [filters.get(k) for k in ("date_from", "date_to")]
    if not all(isinstance(d, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dates):
        return False
    return dates[0] > dates[1]


def _no_question(body) -> bool:
    """A chat whose last user/assistant message is not a user's question with some text."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return False
    turns = [m for m in body["messages"] if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
    if not turns or turns[-1]["role"] != "user":
        return True
    content = turns[-1].get("content")
    text = content if isinstance(content, str) else " ".join(
        p.get("text", "") for p in content if isinstance(p, dict)) if isinstance(content, list) else "x"
    return not " ".join(str(text).split())


def test_the_description_covers_every_api_route(corpus_service):
    app = create_app(service=corpus_service)
    described = set(app.test_client().get("/api/openapi.json").get_json()["paths"])
    routed = {rule.rule.replace("<path:article_id>", "{article_id}") for rule in app.url_map.iter_rules()
              if rule.rule.startswith(("/api/", "/v1/")) and rule.rule != "/api/openapi.json"}
    assert routed == described


def test_the_description_states_the_servers_limits(corpus_service):
    s = corpus_service
    strict = RagService(s.settings.replace(max_question_chars=500, max_top_k=7), s.store, s.embedder,
                        s.retriever, s.answerer)
    client = create_app(service=strict).test_client()
    ask = client.get("/api/openapi.json").get_json()["components"]["schemas"]["AskRequest"]["properties"]
    assert ask["question"]["maxLength"] == 500 and ask["top_k"]["maximum"] == 7
    assert client.post("/api/ask", json={"question": "x" * 501}).status_code == 413
    assert client.post("/api/ask", json={"question": "rail strike", "top_k": 8}).status_code == 400
