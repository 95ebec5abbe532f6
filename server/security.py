"""Access control for the API: optional API keys and a per-client rate limit (token bucket).

Both apply to /api/* and /v1/* except the probes a load balancer or a monitor calls without a key
(/api/health, /api/ready) and the API description (/api/openapi.json). The chat page and its static files
are public; the page sends the key the user typed in (kept in the browser) with each API call.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections import OrderedDict

from flask import Flask, request

from rag.config import Settings
from rag.errors import RateLimited, Unauthorized

PROTECTED_PREFIXES = ("/api/", "/v1/")
OPEN_PATHS = frozenset({"/api/health", "/api/ready", "/api/openapi.json"})
MAX_CLIENTS = 10_000  # buckets kept; the least recently seen client is forgotten beyond this


class TokenBucket:
    """Per-client buckets of `burst` requests refilled at `per_minute`/60 a second; thread-safe."""

    def __init__(self, per_minute: int, burst: int, clock=time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when the request may go ahead; otherwise the seconds until the client may try again."""
        now = self.clock()
        with self._lock:
            tokens, when = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
            return wait


def presented_key() -> str | None:
    """The key from `Authorization: Bearer KEY` or `X-API-Key: KEY`, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("X-API-Key", "").strip() or None


def key_is_valid(key: str, keys: frozenset[str]) -> bool:
    """Compared as bytes: a header may hold any character, the configured keys are ASCII."""
    presented = key.encode("utf-8", "surrogateescape")
    return any(hmac.compare_digest(presented, k.encode("ascii")) for k in keys)


def install(app: Flask, settings: Settings) -> None:
    keys = settings.api_key_set
    bucket = TokenBucket(settings.rate_limit_per_minute, settings.rate_limit_burst) \
        if settings.rate_limit_per_minute > 0 else None
    app.extensions["rate_limiter"] = bucket

    @app.before_request
    def guard():
        path = request.path
        if not path.startswith(PROTECTED_PREFIXES) or path in OPEN_PATHS or request.method == "OPTIONS":
            return None
        key = presented_key()
        if keys and not (key is not None and key_is_valid(key, keys)):
            message = ("this server requires an API key: send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
                       if key is None else "the API key is not valid")
            raise Unauthorized(message, headers={"WWW-Authenticate": 'Bearer realm="newsrag"'})
        if bucket is not None:
            client = f"key:{key}" if keys else f"addr:{request.remote_addr}"
            wait = bucket.take(client)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                raise RateLimited(f"too many requests; try again in {seconds} s "
                                  f"(limit: {settings.rate_limit_per_minute} a minute, bursts of "
                                  f"{settings.rate_limit_burst})", headers={"Retry-After": str(seconds)})
        return None
