"""Load: the production server (`newsrag serve`: waitress, several threads) in its own process on loopback,
driven by concurrent clients for a bounded time. Every request must get the answer the same question gets
when asked alone before the load (the pipeline is deterministic): the same short answer, text, citations and
passages, all but the timings; or a deliberate 429 (rate limit) or 503, or for the bad
requests mixed in, their 4xx; nothing may fail, and the server's memory must stay bounded.

The figures (requests/s, p50/p95 latency, statuses, memory) are printed; run with -s to see them.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ARTICLES
from tests.test_chroma_server import _free_port, _stop, _wait_for

ROOT = Path(__file__).resolve().parent.parent
DURATION = 20.0  # seconds of load
CLIENTS = 8
QUESTIONS = [line for line in (ROOT / "eval" / "sets" / "fixture.jsonl").read_text().splitlines() if line.strip()]
JSON = {"Content-Type": "application/json"}
BAD_REQUESTS = [(b'{"question": ""}', 400, JSON), (b'{"question": 5}', 400, JSON), (b"not json", 400, JSON),
                (b'{"question": "x", "top_k": 999}', 400, JSON), (b'{"question": "x", "colour": "red"}', 400, JSON),
                # what a hostile test found: a lone surrogate, deep nesting, a body not sent as JSON, a foreign Host
                (b'{"question": "who \\ud800?"}', 400, JSON), (b'{"question": ' + b"[" * 1000 + b"]" * 1000 + b"}", 400, JSON),
                (b'{"question": "Who?"}', 415, {"Content-Type": "text/plain"}),
                (b'{"question": "Who?"}', 400, {**JSON, "Host": "evil.example"})]


def _env(data_dir: Path, **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update({"RAG_DATA_DIR": str(data_dir), "RAG_LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1"})
    env.update({f"RAG_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def _post(url: str, body: bytes, headers: dict | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers or JSON)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


def _stored(base: str) -> tuple[int, int]:
    with urllib.request.urlopen(f"{base}/api/health", timeout=30) as response:
        health = json.loads(response.read())
    return health["articles"], health["passages"]


def answer_of(response: dict) -> dict:
    """All of an answer but its timings: the short answer, the text, whether answered, the citations with
    their highlights, the passages retrieved with their scores and ranks."""
    return {k: v for k, v in response.items() if k != "timings_ms"}


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture(scope="module", params=["no rate limit", "default rate limit"])
def served(request, tmp_path_factory):
    """The server with the rate limit off (its capacity) and with the default limit (600 a minute, bursts
    of 60), which eight eager clients on one address go over."""
    data = tmp_path_factory.mktemp("load")
    done = subprocess.run([sys.executable, "-m", "cli", "ingest", str(ARTICLES), "--quiet", "--json"], cwd=ROOT,
                          env=_env(data), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    port = _free_port()
    limit = {"rate_limit_per_minute": 0} if request.param == "no rate limit" else {}
    log = (data / "server.log").open("w")  # a file, not a pipe nobody reads (a full pipe blocks the server)
    server = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--no-ingest"], cwd=ROOT,
                              env=_env(data, port=port, threads=4, **limit), stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/ready", server, timeout=300, ready=lambda b: b.get("ready"))
        yield f"http://127.0.0.1:{port}", server, bool(limit)
    finally:
        _stop(server)
        log.close()


def test_concurrent_clients_get_correct_answers_or_deliberate_refusals(served):
    base, server, unlimited = served
    questions = [json.loads(line)["question"] for line in QUESTIONS]
    stored_before = _stored(base)
    alone = {}
    for question in questions:  # the reference: each question asked alone
        status, body, _ = _post(f"{base}/api/ask", json.dumps({"question": question}).encode())
        assert status == 200, body
        alone[question] = answer_of(body)
    time.sleep(7)  # let the rate-limit bucket refill after the reference run

    results: list[tuple[str, int, float]] = []  # (kind, status, seconds)
    problems: list[str] = []
    memory: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + DURATION

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            if rng.random() < 0.1:
                body, expected, sent = rng.choice(BAD_REQUESTS)
                kind = "bad"
            else:
                question = rng.choice(questions)
                body, expected, sent = json.dumps({"question": question}).encode(), 200, JSON
                kind = "ask"
            started = time.perf_counter()
            try:
                status, data, headers = _post(f"{base}/api/ask", body, sent)
            except Exception as exc:  # a refused connection, a reset, a timeout, a non-JSON body
                with lock:
                    problems.append(f"{kind}: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            problem = None
            if status in (429, 503):
                if status == 429 and not headers.get("Retry-After", "").isdigit():
                    problem = "429 without Retry-After"
                elif data.get("error", {}).get("status") != status:
                    problem = f"{status} without the error shape: {data}"
            elif status != expected:
                problem = f"{kind}: status {status}, expected {expected}: {data}"
            elif kind == "ask" and answer_of(data) != alone[question]:
                differs = sorted(k for k in alone[question] if answer_of(data).get(k) != alone[question][k])
                problem = f"answer to {question!r} differs from the one given alone in {differs}: {data['answer']!r}"
            elif kind == "bad" and data["error"]["status"] != status:
                problem = f"bad request answered without the error shape: {data}"
            with lock:
                results.append((kind, status, elapsed))
                if problem:
                    problems.append(problem)
            if status == 429:  # a well-behaved client waits as told (capped to keep the test short)
                time.sleep(min(int(headers.get("Retry-After", "1")), 2) * rng.uniform(0.5, 1.0))

    def watch_memory() -> None:
        while time.monotonic() < deadline:
            memory.append(_rss_mib(server.pid))
            time.sleep(0.5)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    threads.append(threading.Thread(target=watch_memory))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DURATION + 120)
    wall = time.monotonic() - started

    assert server.poll() is None, "the server died under load (its log is server.log in the test's tmp folder)"
    assert _stored(base) == stored_before  # nothing lost from the store
    assert not problems, f"{len(problems)} failed requests, e.g. {problems[:5]}"
    assert not [status for _, status, _ in results if status >= 500 and status != 503]
    statuses = {s: sum(1 for _, status, _ in results if status == s) for s in sorted({r[1] for r in results})}
    answered = sorted(seconds for kind, status, seconds in results if kind == "ask" and status == 200)
    assert len(answered) >= 50, statuses  # real work was done, not only refusals
    if unlimited:
        assert 429 not in statuses
    else:
        assert statuses.get(429, 0) > 0  # eight eager clients on one address go over the default limit
    first, last = statistics.mean(memory[: len(memory) // 4]), statistics.mean(memory[-len(memory) // 4:])
    assert max(memory) < 3 * 1024 and last < first * 1.25 + 50, (first, last, max(memory))
    p95 = answered[int(0.95 * (len(answered) - 1))]
    print(f"\nload, {'no rate limit' if unlimited else 'default rate limit'}: {CLIENTS} clients for {wall:.0f}s: {len(results)} requests ({len(results) / wall:.1f}/s), "
          f"statuses {statuses}; answered p50 {statistics.median(answered) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms; server RSS {first:.0f} MiB in the first quarter, {last:.0f} MiB in the "
          f"last, peak {max(memory):.0f} MiB")
