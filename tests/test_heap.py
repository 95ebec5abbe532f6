"""Freed memory goes back to the system: the trim itself, and the server calling it every N questions."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import server.heap
from server import create_app

PROBE = textwrap.dedent("""
    from server.heap import release_free_heap

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


def test_the_server_trims_after_every_nth_question_is_sent(corpus_service, monkeypatch):
    calls = []
    monkeypatch.setattr(server.heap, "release_free_heap", lambda: calls.append(1) or True)

    def client(every):  # the shared store and model, served with the setting changed
        return create_app(corpus_service.settings.replace(heap_trim_every=every), corpus_service).test_client()

    trimming = client(3)
    for number in range(4):
        assert trimming.post("/api/ask", json={"question": f"Who runs Brightfen Energy? ({number})"}).status_code == 200
        assert trimming.get("/api/health").status_code == 200  # not a question: not counted
    assert len(calls) == 1  # after the 3rd question
    chat = {"messages": [{"role": "user", "content": "Who runs Brightfen Energy?"}]}
    assert trimming.post("/v1/chat/completions", json=chat).status_code == 200
    streamed = trimming.post("/api/ask", json={"question": "Who runs Brightfen Energy?", "stream": True})
    assert len(calls) == 1  # the 6th question's trim waits until its stream has been sent
    assert b"event: done" in streamed.get_data()
    assert len(calls) == 2
    never = client(0)
    for _ in range(4):
        never.post("/api/ask", json={"question": "Who runs Brightfen Energy?"})
    assert len(calls) == 2
