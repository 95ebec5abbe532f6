"""Hand memory the process has freed back to the operating system.

Answering questions allocates and frees native memory all the time (torch's tensors, Chroma's query results):
a hundred-odd megabytes over twenty questions on the full Reuters store. glibc keeps freed blocks in its heap
for reuse, and because the heap is fragmented it gives little of it back by itself: the resident size of a
long-running server creeps up by tens of megabytes per hundred distinct questions although almost nothing
stays alive (BENCHMARKS.md, "Server memory").
`malloc_trim(0)` returns the free pages; it costs a few milliseconds. Elsewhere than glibc (musl, macOS) it is
a no-op. TrimHeap calls it from the WSGI layer, after the response of every N-th question has been sent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import itertools
import logging
from typing import Callable, Iterable

log = logging.getLogger(__name__)


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        log.debug("no malloc_trim in %r: freed memory stays with the allocator", name)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_heap() -> bool:
    """Return the heap's free pages to the system; False where the C library cannot (not glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


ANSWERING = ("/api/ask", "/v1/chat/completions")


class TrimHeap:
    """WSGI middleware: after every `every`-th question's response is sent (streamed ones included), return the
    heap's free pages to the system; the trim's few ms are then no question's."""

    def __init__(self, app: Callable, every: int, trim: Callable[[], bool] | None = None):
        self.app, self.every, self.trim = app, every, trim or release_free_heap
        self._answered = itertools.count(1)  # next() is atomic: threads share it without a lock

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        body = self.app(environ, start_response)
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") in ANSWERING:
            return self._then_trim(body)
        return body

    def _then_trim(self, body: Iterable[bytes]) -> Iterable[bytes]:
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()
            if next(self._answered) % self.every == 0:
                self.trim()
