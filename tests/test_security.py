"""API keys, the per-client rate limit and the security headers, on the real app and service."""

import pytest

from server import create_app
from server.security import TokenBucket

QUESTION = {"question": "Who is the mayor of Merrowick?"}


@pytest.fixture
def keyed(corpus_service):
    settings = corpus_service.settings.replace(api_keys="alpha-key, beta-key", rate_limit_per_minute=0)
    return create_app(settings=settings, service=corpus_service).test_client()


def _limited(corpus_service, per_minute=60, burst=3, **more):
    settings = corpus_service.settings.replace(rate_limit_per_minute=per_minute, rate_limit_burst=burst, **more)
    return create_app(settings=settings, service=corpus_service).test_client()


def test_without_keys_configured_the_api_is_open(client):
    assert client.post("/api/ask", json=QUESTION).status_code == 200


def test_a_key_is_required_when_configured(keyed):
    response = keyed.post("/api/ask", json=QUESTION)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert "X-API-Key" in response.get_json()["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")

    wrong = keyed.post("/api/ask", json=QUESTION, headers={"X-API-Key": "alpha-keyX"})
    assert wrong.status_code == 401 and "not valid" in wrong.get_json()["error"]["message"]
    assert keyed.get("/api/sources").status_code == 401
    assert keyed.get("/api/articles/rail-strike").status_code == 401


@pytest.mark.parametrize("headers", [{"X-API-Key": "ключ"}, {"Authorization": "Bearer été"},
                                     {"X-API-Key": "alpha-key\u00e9"}])
def test_keys_with_any_characters_are_refused_as_not_valid(keyed, headers):
    response = keyed.post("/api/ask", json=QUESTION, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_configured_keys_must_be_printable_ascii():
    from rag.config import load_settings
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="api_keys"):
        load_settings(env={"RAG_API_KEYS": "good,ключ"})


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer alpha-key"}, {"X-API-Key": "beta-key"},
                                     {"Authorization": "bearer  beta-key "}])
def test_either_header_carries_the_key(keyed, headers):
    response = keyed.post("/api/ask", json=QUESTION, headers=headers)
    assert response.status_code == 200 and "Clara Ventis" in response.get_json()["answer"]


def test_probes_page_and_description_need_no_key(keyed):
    for path in ("/api/health", "/api/ready", "/api/openapi.json", "/", "/static/app.js"):
        assert keyed.get(path).status_code == 200, path


def test_the_rate_limit_answers_429_with_retry_after_per_client(corpus_service):
    client = _limited(corpus_service, per_minute=60, burst=3)
    statuses = [client.get("/api/sources").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = client.get("/api/sources")
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 2  # one request a second refills
    other = client.get("/api/sources", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200  # another client has its own bucket
    assert client.get("/api/health").status_code == 200  # probes are never limited


def test_with_keys_each_key_has_its_own_bucket(corpus_service):
    client = _limited(corpus_service, per_minute=60, burst=1, api_keys="alpha-key,beta-key")
    assert client.get("/api/sources", headers={"X-API-Key": "alpha-key"}).status_code == 200
    assert client.get("/api/sources", headers={"X-API-Key": "alpha-key"}).status_code == 429
    assert client.get("/api/sources", headers={"X-API-Key": "beta-key"}).status_code == 200


def test_token_bucket_refills_at_the_rate():
    now = [0.0]
    bucket = TokenBucket(per_minute=120, burst=2, clock=lambda: now[0])  # 2 a second
    assert bucket.take("a") == 0 and bucket.take("a") == 0
    assert bucket.take("a") == pytest.approx(0.5)
    now[0] = 0.5
    assert bucket.take("a") == 0  # one token back after half a second
    assert bucket.take("a") == pytest.approx(0.5)
    now[0] = 100.0
    assert [bucket.take("a") for _ in range(3)][:2] == [0, 0]  # never more than the burst


def test_security_headers_on_page_and_api(client):
    for path in ("/", "/api/health", "/api/nowhere"):
        headers = client.get(path).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]


def test_rate_limit_settings_are_checked():
    from rag.config import load_settings
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="rate_limit_per_minute"):
        load_settings(env={"RAG_RATE_LIMIT_PER_MINUTE": "-1"})
    assert load_settings(env={"RAG_API_KEYS": " a, ,b "}).api_key_set == {"a", "b"}


def test_wrong_keys_are_throttled_per_address(corpus_service):
    client = _limited(corpus_service, per_minute=0, api_keys="alpha-key", auth_failures_per_minute=3)
    statuses = [client.get("/api/sources", headers={"X-API-Key": f"guess-{n}"}).status_code for n in range(3)]
    assert statuses == [401, 401, 401]
    for key in ("guess-4", "alpha-key"):  # once over, even the right key waits: guessing gains nothing
        refused = client.get("/api/sources", headers={"X-API-Key": key})
        assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 20  # three a minute: one back in 20 s
    other = {"REMOTE_ADDR": "10.9.8.7"}
    assert client.get("/api/sources", headers={"X-API-Key": "alpha-key"}, environ_base=other).status_code == 200
    no_key = [client.get("/api/sources", environ_base=other).status_code for _ in range(5)]
    assert no_key == [401] * 5  # a missing key is not a guess


def _host(client, host: str, **headers):
    return client.get("/api/sources", environ_overrides={"HTTP_HOST": host}, headers=headers)


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1:9000", "[::1]:8080", "LOCALHOST"])
def test_loopback_host_names_are_served_by_default(client, host):
    assert _host(client, host).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "", "[::2]"])
def test_foreign_host_names_get_400_without_keys(client, host):
    response = _host(client, host)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "host_not_allowed"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert client.get("/", environ_overrides={"HTTP_HOST": host}).status_code == 400  # the page too


def test_allowed_hosts_setting_and_keys(corpus_service, keyed):
    assert _host(keyed, "news.example.org", **{"X-API-Key": "alpha-key"}).status_code == 200  # keys: any host
    named = _limited(corpus_service, per_minute=0, allowed_hosts="News.Example.org, [::1]")
    assert _host(named, "news.example.org:443").status_code == 200
    assert _host(named, "[::1]").status_code == 200
    assert _host(named, "localhost").status_code == 400
    assert _host(_limited(corpus_service, per_minute=0, allowed_hosts="*"), "anything.example").status_code == 200
