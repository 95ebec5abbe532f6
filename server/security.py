"""Access control: the Host names served, optional API keys (with wrong keys throttled per address) and a
per-client rate limit (token buckets).

The Host check applies to every path (a page served under a foreign name is the way in for DNS
rebinding). Keys and the rate limit apply to /api/* and /v1/* except the probes a load balancer or a
monitor calls without a key (/api/health, /api/ready) and the API description (/api/openapi.json). The
chat page and its static files are public; the page sends the key the user typed in (kept in the
browser) with each API call.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
import urllib.parse
from collections import OrderedDict

from flask import Flask, request

from rag.config import Settings
from rag.errors import HostNotAllowed, RateLimited, Unauthorized

PROTECTED_PREFIXES = ("/api/", "/v1/")
OPEN_PATHS = frozenset({"/api/health", "/api/ready", "/api/openapi.json"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_CLIENTS = 10_000  # buckets kept; the least recently seen client is forgotten beyond this


class TokenBucket:
    """Per-client buckets of `burst` requests refilled at `per_minute`/60 a second; thread-safe."""

    def __init__(self, per_minute: int, burst: int, clock=time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, client: str, spend: bool = True) -> float:
        """0 when the request may go ahead (taking a token when `spend`); otherwise the seconds until the
        client may try again."""
        now = self.clock()
        with self._lock:
            tokens, when = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0 if spend else 0.0
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


def host_name(host: str) -> str:
    """The name in a Host header, lower case, without port or brackets: '[::1]:8080' -> '::1'."""
    try:
        return urllib.parse.urlsplit(f"//{host.strip()}").hostname or ""
    except ValueError:
        return ""


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The host names served (setting allowed_hosts); None: any. Unset, loopback names only while no API
    keys protect the server."""
    names = frozenset(host_name(h) for h in settings.allowed_hosts.split(",") if h.strip())
    if "*" in names or (not names and settings.api_key_set):
        return None
    return names or LOOPBACK_HOSTS


def refused(wait: float, reason: str) -> RateLimited:
    seconds = max(1, math.ceil(wait))
    return RateLimited(f"{reason}; try again in {seconds} s", headers={"Retry-After": str(seconds)})


def checked_key(keys: frozenset[str], failures: TokenBucket | None) -> str | None:
    """The presented key when it is valid; 401 when it is missing or wrong, and 429 for an address that
    sent too many wrong keys (whatever it sends until the allowance refills)."""
    address = f"addr:{request.remote_addr}"
    if failures is not None and (wait := failures.take(address, spend=False)) > 0:
        raise refused(wait, "too many wrong API keys from this address")
    key = presented_key()
    if key is None:
        raise Unauthorized("this server requires an API key: send it as 'Authorization: Bearer KEY' or "
                           "'X-API-Key: KEY'", headers={"WWW-Authenticate": 'Bearer realm="newsrag"'})
    if not key_is_valid(key, keys):
        if failures is not None:
            failures.take(address)
        raise Unauthorized("the API key is not valid", headers={"WWW-Authenticate": 'Bearer realm="newsrag"'})
    return key


def install(app: Flask, settings: Settings) -> None:
    keys, hosts = settings.api_key_set, allowed_hosts(settings)
    bucket = TokenBucket(settings.rate_limit_per_minute, settings.rate_limit_burst) \
        if settings.rate_limit_per_minute > 0 else None
    failures = TokenBucket(settings.auth_failures_per_minute, settings.auth_failures_per_minute) \
        if keys and settings.auth_failures_per_minute > 0 else None
    app.extensions["rate_limiter"] = bucket

    @app.before_request
    def guard():
        if hosts is not None and host_name(request.host) not in hosts:
            raise HostNotAllowed("this server does not answer to the host name in the Host header "
                                 "(setting allowed_hosts)")
        path = request.path
        if not path.startswith(PROTECTED_PREFIXES) or path in OPEN_PATHS or request.method == "OPTIONS":
            return None
        key = checked_key(keys, failures) if keys else None
        if bucket is not None:
            wait = bucket.take(f"key:{key}" if keys else f"addr:{request.remote_addr}")
            if wait > 0:
                raise refused(wait, f"too many requests (limit: {settings.rate_limit_per_minute} a minute, "
                                    f"bursts of {settings.rate_limit_burst})")
        return None
