"""Flask app factory: the JSON API under /api and the chat page at /. Every failure is one JSON shape."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from rag.config import Settings, load_settings
from rag.errors import RagError, rag_error
from server import security
from server.api import api
from server.heap import TrimHeap
from server.openai_api import openai_api
from server.request_models import request_models
from server.web import web

WEB_DIR = Path(str(resources.files("web")))  # installed beside the code as package data
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
}


def create_app(settings: Settings | None = None, service=None) -> Flask:
    """An app around a built service; builds one from settings when none is given. Given both, the
    app's own settings (limits, API keys, rate limit) come from `settings`."""
    if service is None:
        from rag.service import build_service

        service = build_service(settings or load_settings())
    settings = settings or service.settings
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["MAX_ARTICLES_BODY_BYTES"] = settings.max_articles_body_bytes
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["rag_service"] = service
    app.extensions["request_models"] = request_models(settings)
    app.extensions["web_dir"] = WEB_DIR
    security.install(app, settings)
    app.register_blueprint(api)
    app.register_blueprint(openai_api)
    app.register_blueprint(web)
    _register_errors(app)
    app.after_request(_security_headers)
    if settings.heap_trim_every:
        app.wsgi_app = TrimHeap(app.wsgi_app, settings.heap_trim_every)
    return app


def error_response(error: RagError):
    response = jsonify(error.to_dict())
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _register_errors(app: Flask) -> None:
    app.register_error_handler(Exception, lambda exc: error_response(rag_error(exc)))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        headers = {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
        error = RagError(_http_message(exc), headers=headers)  # keeps e.g. the Allow header of a 405
        error.status, error.code = exc.code or 500, _http_code(exc)
        return error_response(error)


def _http_code(exc: HTTPException) -> str:
    return {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
            415: "unsupported_media_type", 400: "bad_request"}.get(exc.code or 500, "http_error")


def _http_message(exc: HTTPException) -> str:
    if exc.code == 413:
        return "the request body is too large"
    if exc.code == 404:
        return "no such endpoint or resource"
    if exc.code == 405:
        return "method not allowed for this endpoint"
    return exc.description or exc.name


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
