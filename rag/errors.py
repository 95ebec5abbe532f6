"""Error classes: each knows its HTTP status, a stable code and a message a user can act on."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


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


class StoreOwned(RagError):
    """An embedded store that a running server owns: write to it through that server."""

    status = 409
    code = "store_owned"


def rag_error(exc: Exception) -> RagError:
    """The error a client is shown for exc: a RagError as it is; anything else is logged, its details kept there."""
    if isinstance(exc, RagError):
        return exc
    log.error("unexpected error", exc_info=exc)
    return RagError("internal error; the server log has the details")
