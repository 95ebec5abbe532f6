"""WSGI entry point for gunicorn (or any WSGI server), built from settings (RAG_* variables, $RAG_CONFIG).

    gunicorn --workers 2 --threads 4 --bind 127.0.0.1:8080 'server.wsgi:build_app()'
    gunicorn ... server.wsgi:app        # the same; the app is built when the worker first asks for it

Each worker process loads the model and opens the store once. Several workers (or machines) share one
store only through a Chroma server (settings chroma_host/chroma_port): an embedded store on disk belongs
to one process. Nothing is ingested here; run `newsrag ingest` against the same store instead.

Put a buffering reverse proxy (nginx) in front of gunicorn: its threads read requests themselves, so a few
clients that send half a request stall a worker. `newsrag serve` (server/serving.py) needs none for that.
"""

from __future__ import annotations

import threading

from flask import Flask

_built: dict[str, Flask] = {}
_lock = threading.Lock()


def build_app() -> Flask:
    from rag.config import load_settings, offline_environment

    offline_environment()  # before the app's modules import spaCy and torch, which read it on import
    from rag.service import build_service
    from server.app import create_app
    from server.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level)
    service = build_service(settings)
    service.retriever.keyword_index()  # ready before the first request (loaded from disk when unchanged)
    return create_app(service=service)


def __getattr__(name: str) -> Flask:
    """`server.wsgi:app`: built on first access rather than at import (importing loads nothing)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _lock:
        if "app" not in _built:
            _built["app"] = build_app()
        return _built["app"]
