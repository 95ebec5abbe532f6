"""Freed memory goes back to the system: the trim itself, and the service calling it every N answers."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import rag.service
from rag.service import RagService

PROBE = textwrap.dedent("""
    from rag.heap import release_free_heap

    def rss_mib():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024

    blocks = [bytes(2000) for _ in range(100_000)]  # about 200 MB of small blocks in the main heap
    pin = bytes(2000)  # allocated after them: the freed blocks are not at the heap's top
    full = rss_mib()
    del blocks
    freed = rss_mib()
    released = release_free_heap()
    print(full, freed, rss_mib(), released)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; glibc's malloc_trim")
def test_release_free_heap_returns_freed_blocks_to_the_system():
    # a fresh interpreter, so the rest of the test session's heap does not blur the figures
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    full, freed, trimmed, released = out.split()
    full, freed, trimmed = int(full), int(freed), int(trimmed)
    assert released == "True"
    assert freed > full - 50, "free() alone gave the memory back: nothing left for the trim to show"
    assert trimmed < freed - 150, (full, freed, trimmed)


def test_the_service_trims_every_n_answers(corpus_service, monkeypatch):
    calls = []
    monkeypatch.setattr(rag.service, "release_free_heap", lambda: calls.append(1) or True)

    def service(every):  # the shared store and model, with the setting changed
        return RagService(corpus_service.settings.replace(heap_trim_every=every), corpus_service.store,
                          corpus_service.embedder, corpus_service.retriever, corpus_service.answerer)

    trimming = service(3)
    for number in range(7):
        assert trimming.ask(f"Who runs Brightfen Energy? ({number})").answered
    assert len(calls) == 2  # after the 3rd and the 6th answer
    never = service(0)
    for _ in range(4):
        never.ask("Who runs Brightfen Energy?")
    assert len(calls) == 2
