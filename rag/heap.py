"""Hand memory the process has freed back to the operating system.

Answering questions allocates and frees native memory all the time (torch's tensors, Chroma's query results):
a hundred-odd megabytes over twenty questions on the full Reuters store. glibc keeps freed blocks in its heap
for reuse, and because the heap is fragmented it gives little of it back by itself: the resident size of a
long-running server creeps up by tens of megabytes per hundred distinct questions although almost nothing
stays alive (BENCHMARKS.md, "Server memory").
`malloc_trim(0)` returns the free pages; it costs a few milliseconds. Elsewhere than glibc (musl, macOS) it is
a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

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
