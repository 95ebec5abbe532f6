"""Error classes: each knows its HTTP status, a stable code and a message a user can act on."""

from __future__ import annotations


class RagError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}

    def to_dict(self) -> dict:
        return {"error": {"status": self.status, "code": self.code, "message": self.message}}


class ConfigError(RagError):
    code = "config_error"


class BadRequest(RagError):
    status = 400
    code = "bad_request"


class HostNotAllowed(RagError):
    status = 400
    code = "host_not_allowed"


class Unauthorized(RagError):
    status = 401
    code = "unauthorized"


class NotFound(RagError):
    status = 404
    code = "not_found"


class CorpusNotFound(RagError):
    status = 404
    code = "corpus_not_found"


class MethodNotAllowed(RagError):
    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(RagError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(RagError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(RagError):
    status = 429
    code = "rate_limited"


class LLMUnavailable(RagError):
    status = 502
    code = "llm_unavailable"


class IndexNotReady(RagError):
    status = 503
    code = "index_not_ready"


class StoreUnavailable(RagError):
    status = 503
    code = "store_unavailable"


class LLMTimeout(RagError):
    status = 504
    code = "llm_timeout"


class IngestLocked(RagError):
    status = 409
    code = "ingest_locked"


def store_unreachable(exc: BaseException) -> bool:
    """A network failure reaching the Chroma server (httpx's transport errors), anywhere in the chain."""
    for _ in range(20):  # a bounded walk: chains can loop
        if exc is None:
            return False
        if type(exc).__module__.startswith("httpx") and type(exc).__name__ in _TRANSPORT_ERRORS:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


_TRANSPORT_ERRORS = {"ConnectError", "ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout", "ReadError",
                     "WriteError", "RemoteProtocolError", "NetworkError", "TransportError", "TimeoutException"}


class StoreOwned(RagError):
    """An embedded store that a running server owns: write to it through that server."""

    status = 409
    code = "store_owned"
