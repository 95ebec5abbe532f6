"""The production server (waitress as `newsrag serve` builds it) on loopback, against slow, idle and
oversized clients: a few dozen silent connections must not keep a normal request waiting for long, an
oversized body is refused without being read, and waitress's own errors carry the JSON error shape."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from waitress import wasyncore

from server import create_app
from server.serving import MAX_HEADER_BYTES, build_server

IDLE_CLIENTS = 30


@pytest.fixture
def serve(corpus_service):
    """Starts the production server with some settings changed; yields its port; stops it."""
    servers = []

    def start(**changes) -> int:
        settings = corpus_service.settings.replace(host="127.0.0.1", port=0, **changes)
        server = build_server(create_app(settings=settings, service=corpus_service), settings)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        return server.effective_port

    yield start
    for server, thread in servers:
        server.task_dispatcher.shutdown(timeout=2)
        wasyncore.close_all(server._map)
        thread.join(timeout=5)


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _exchange(port: int, raw: bytes) -> tuple[int, dict, bytes]:
    """Send raw bytes, read until the server closes; (status, headers, body)."""
    with _connect(port) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def _health_seconds(port: int) -> float:
    started = time.monotonic()
    status, _, body = _exchange(port, b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status == 200 and json.loads(body)["ready"] is True
    return time.monotonic() - started


def _idle_clients(port: int) -> list[socket.socket]:
    """Connections that send half a request (or nothing) and then fall silent."""
    sockets = [_connect(port) for _ in range(IDLE_CLIENTS)]
    for number, sock in enumerate(sockets):
        if number % 2:
            sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{\"question\": ")
    return sockets


def test_idle_clients_do_not_delay_a_request_with_the_defaults(serve):
    port = serve()
    sockets = _idle_clients(port)
    try:
        assert _health_seconds(port) < 3
    finally:
        for sock in sockets:
            sock.close()


def test_silent_connections_are_closed_and_free_their_slots(serve):
    port = serve(connection_limit=IDLE_CLIENTS // 2, client_timeout=2)  # the idle ones fill every slot
    sockets = _idle_clients(port)
    try:
        assert _health_seconds(port) < 8  # served once the silent ones time out, not after minutes
        for sock in sockets[:5]:
            assert sock.recv(1024) == b""  # closed by the server
    finally:
        for sock in sockets:
            sock.close()


def _assert_json_error(status: int, headers: dict, body: bytes, expected: int, code: str) -> None:
    assert status == expected, body
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Content-Type-Options"] == "nosniff" and "default-src 'self'" in headers["Content-Security-Policy"]
    error = json.loads(body)["error"]
    assert (error["status"], error["code"]) == (expected, code) and error["message"]


def test_a_huge_body_is_refused_on_its_content_length_without_being_read(serve):
    port = serve()
    started = time.monotonic()
    status, headers, body = _exchange(port, b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                            b"Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n")
    _assert_json_error(status, headers, body, 413, "payload_too_large")
    assert time.monotonic() - started < 3


def test_a_chunked_body_is_cut_at_the_limit(serve):
    port = serve(max_body_bytes=1000, max_articles_body_bytes=1000)  # waitress cuts at the larger of the two
    chunk = b"%x\r\n%s\r\n" % (600, b"x" * 600)
    status, headers, body = _exchange(port, b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                                            b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 3)
    _assert_json_error(status, headers, body, 413, "payload_too_large")


@pytest.mark.parametrize("raw, expected, code", [
    (b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: many\r\n\r\n{}", 400, "bad_request"),
    (b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
     400, "bad_request"),
    # headers that reach the limit (sent up to it exactly: bytes sent beyond what the server reads before it
    # answers would make it reset the connection, and the response could be lost)
    ((b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + b"a" * MAX_HEADER_BYTES)[:MAX_HEADER_BYTES],
     431, "headers_too_large"),
])
def test_errors_of_the_server_itself_carry_the_json_shape(serve, raw, expected, code):
    _assert_json_error(*_exchange(serve(), raw), expected, code)
