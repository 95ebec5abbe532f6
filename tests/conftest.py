"""Shared fixtures: settings -> service -> app, on real parts (Chroma in a temp dir, the packaged model)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from rag.config import load_settings, offline_environment
from rag.service import RagService, build_embedder, build_service
from server import create_app

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLES = FIXTURES / "articles"

offline_environment()


def clear_chroma_cache() -> None:
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def make_settings(tmp_path: Path, **overrides):
    """Settings that ignore the developer's environment and config file; no rate limit unless asked for
    (the whole session's requests come from one address; tests/test_security.py tests the limit)."""
    return load_settings(env={}, data_dir=str(tmp_path / "data"), **{"rate_limit_per_minute": 0, **overrides})


@contextmanager
def ingested(tmp_path_factory, name: str, embedder, analyzer, *paths: Path):
    """A service on a store of its own (a folder named after name) with these articles ingested."""
    service = build_service(make_settings(tmp_path_factory.mktemp(name)), embedder, analyzer)
    service.ingest(list(paths), progress=False)
    try:
        yield service
    finally:
        clear_chroma_cache()


@pytest.fixture(scope="session")
def embedder():
    """The packaged all-MiniLM-L6-v2, loaded once for the whole session."""
    return build_embedder(load_settings(env={}))


@pytest.fixture(scope="session")
def analyzer():
    """spaCy's English pipeline, loaded once for the whole session."""
    from rag.analysis import Analyzer

    return Analyzer()


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture
def service(settings, embedder, analyzer):
    """A fresh, empty service on its own store."""
    yield build_service(settings, embedder, analyzer)
    clear_chroma_cache()


@pytest.fixture(scope="session")
def corpus_service(tmp_path_factory, embedder, analyzer) -> RagService:
    """A service with the fixture articles ingested; shared, so tests must not change its store."""
    root = tmp_path_factory.mktemp("corpus-store")
    service = build_service(make_settings(root), embedder, analyzer)
    service.ingest([ARTICLES], progress=False)
    yield service
    clear_chroma_cache()


@pytest.fixture(scope="session")
def app(corpus_service):
    return create_app(service=corpus_service)


@pytest.fixture
def client(app):
    return app.test_client()


class FailingService(RagService):
    """The real service, except that answering fails unexpectedly (for error-path tests)."""

    def _answer(self, *args, **kwargs):  # both paths: a 500 for JSON, an error event mid-stream
        raise RuntimeError("simulated failure inside the pipeline")


def _serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="session")
def live_server(app):
    """Base URL of the real app on loopback."""
    server, thread = _serve(app)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def failing_live_server(corpus_service):
    """Base URL of an app whose /api/ask answers 500 with the JSON error shape."""
    s = corpus_service
    failing = FailingService(s.settings, s.store, s.embedder, s.retriever, s.answerer, analyzer=s.analyzer)
    server, thread = _serve(create_app(service=failing))
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
