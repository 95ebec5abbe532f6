"""The production server: waitress, set up to survive slow, idle and oversized clients on its own.

waitress reads requests asynchronously and hands one to a worker thread only once it has arrived in full,
so a slow client holds a connection, never a thread. Open connections are bounded (connection_limit); a
connection silent for client_timeout seconds (an idle keep-alive, a request sent half-way) is closed; a
body over max_body_bytes (max_articles_body_bytes when larger: waitress has one limit for every path, and
the app refuses a question body over max_body_bytes itself) is refused on its Content-Length, or at the
limit when chunked, without reading the rest. Errors waitress answers itself (a bad Content-Length or
chunk, headers over MAX_HEADER_BYTES) carry the JSON error shape and the security headers, like the app's own.
"""

from __future__ import annotations

import json

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask

from rag.config import Settings
from server.app import SECURITY_HEADERS

CLEANUP_SECONDS = 1  # how often silent connections are looked for
MAX_HEADER_BYTES = 64 * 1024
_CODES = {400: "bad_request", 413: "payload_too_large", 431: "headers_too_large", 501: "not_implemented"}


class JsonErrorTask(ErrorTask):
    """waitress's own error responses in the project's one JSON error shape."""

    def execute(self):
        error = self.request.error
        message = f"{error.reason.lower()}: {error.body}" if error.body else error.reason.lower()
        body = json.dumps({"error": {"status": error.code, "code": _CODES.get(error.code, "internal_error"),
                                     "message": message}}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"), *SECURITY_HEADERS.items()])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def build_server(app: Flask, settings: Settings):
    """A waitress server for `app` on settings.host:port (port 0: any free one); .run() serves."""
    sockets: dict = {}
    server = create_server(app, map=sockets, host=settings.host, port=settings.port, threads=settings.threads,
                           ident="newsrag", connection_limit=settings.connection_limit,
                           channel_timeout=settings.client_timeout, cleanup_interval=CLEANUP_SECONDS,
                           max_request_body_size=max(settings.max_body_bytes, settings.max_articles_body_bytes),
                           max_request_header_size=MAX_HEADER_BYTES)
    for listener in sockets.values():  # one per address the host name stands for
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = JsonErrorChannel
    return server
