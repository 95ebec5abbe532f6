"""Scale-out: a real Chroma server (`chroma run`) on loopback shared by separate processes.

One process ingests, others answer (the CLI, and gunicorn with two workers); an ingestion made later by
another process is seen by the running workers through the store's generation stamp.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ARTICLES

ROOT = Path(__file__).resolve().parent.parent
CHROMA = Path(sys.executable).parent / "chroma"
PROCESS_TIMEOUT = 300

pytestmark = pytest.mark.skipif(not CHROMA.exists(), reason="the chroma CLI is not installed in this venv")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _post_json(url: str, body: dict, timeout: float = 60.0) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _wait_for(url: str, process: subprocess.Popen, timeout: float, ready=lambda body: True) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited with {process.returncode} before {url} answered")
        try:
            body = _get_json(url, timeout=2)
            if ready(body):
                return body
        except (OSError, ValueError):
            pass
        time.sleep(0.25)
    raise AssertionError(f"{url} did not answer within {timeout:.0f}s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """(host, port) of a Chroma server storing into a temporary folder; stopped after the module."""
    path, port = tmp_path_factory.mktemp("chroma-server"), _free_port()
    log = (path.parent / "chroma.log").open("w")
    process = subprocess.Popen([str(CHROMA), "run", "--path", str(path), "--port", str(port),
                                "--host", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", process, timeout=60)
        yield "127.0.0.1", port
    finally:
        _stop(process)
        log.close()


def _env(chroma_server, data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    host, port = chroma_server
    env.update({"RAG_CHROMA_HOST": host, "RAG_CHROMA_PORT": str(port), "RAG_DATA_DIR": str(data_dir),
                "RAG_LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    env.update({f"RAG_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def _newsrag(env: dict, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "cli", *args, "--json"], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=PROCESS_TIMEOUT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _cited(answer: dict) -> set[str]:
    return {c["article_id"] for c in answer["citations"]}


def test_one_process_ingests_another_answers(chroma_server, tmp_path):
    collection = "cli"
    report = _newsrag(_env(chroma_server, tmp_path / "ingester", collection=collection),
                      "ingest", str(ARTICLES), "--quiet")
    assert report["added"] == 7 and report["passages_written"] > 7

    answerer = tmp_path / "answerer"
    answer = _newsrag(_env(chroma_server, answerer, collection=collection),
                      "ask", "How many rail workers walked off the job in Kaldor?")
    assert answer["answered"] and "rail-strike" in _cited(answer)
    assert "18,000" in answer["answer"]
    assert not (answerer / "chroma").exists()  # the answering process kept no store of its own


def test_gunicorn_workers_share_the_store_and_see_a_later_ingestion(chroma_server, tmp_path):
    collection = "served"
    corpus = tmp_path / "corpus"
    shutil.copytree(ARTICLES, corpus, ignore=shutil.ignore_patterns("grain-harvest.md"))
    _newsrag(_env(chroma_server, tmp_path / "ingester", collection=collection), "ingest", str(corpus), "--quiet")

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "2",
                               "--bind", f"127.0.0.1:{port}", "--timeout", "120", "server.wsgi:build_app()"],
                              cwd=ROOT, env=_env(chroma_server, tmp_path / "web", collection=collection),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    question = {"question": "How large was Valdoria's record grain harvest?"}
    try:
        health = _wait_for(f"{base}/api/ready", server, timeout=PROCESS_TIMEOUT, ready=lambda b: b.get("ready"))
        assert health["store"] == "http" and health["articles"] == 6
        before = [_post_json(f"{base}/api/ask", question) for _ in range(4)]  # reaches both workers
        assert all("grain-harvest" not in _cited(a) for a in before)

        shutil.copy(ARTICLES / "grain-harvest.md", corpus / "grain-harvest.md")
        report = _newsrag(_env(chroma_server, tmp_path / "ingester", collection=collection),
                          "ingest", str(corpus), "--quiet")
        assert report["added"] == 1 and report["unchanged"] == 6

        time.sleep(2.5)  # workers look at the generation stamp at most every 2 s
        after = [_post_json(f"{base}/api/ask", question) for _ in range(4)]
        for answer in after:
            assert "grain-harvest" in _cited(answer) and "14.6 million tonnes" in answer["answer"]
    finally:
        _stop(server)


def test_a_chroma_server_that_goes_away_makes_the_service_unready_not_broken(tmp_path):
    """Readiness tells a load balancer the truth; questions get a 503 in the JSON error shape, not a 500."""
    from rag.service import build_service
    from server import create_app
    from tests.conftest import clear_chroma_cache, make_settings

    path, port = tmp_path / "store", _free_port()
    process = subprocess.Popen([str(CHROMA), "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", process, timeout=60)
        service = build_service(make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=port))
        service.ingest([ARTICLES / "rail-strike.txt"], progress=False)
        client = create_app(service=service).test_client()
        assert client.get("/api/ready").status_code == 200
        _stop(process)

        health = client.get("/api/health")
        assert health.status_code == 200 and health.get_json()["ready"] is False
        assert "does not answer" in health.get_json()["message"]
        assert client.get("/api/ready").status_code == 503
        for response in (client.post("/api/ask", json={"question": "How many rail workers walked off the job?"}),
                         client.get("/api/articles/rail-strike")):
            assert response.status_code == 503, response.get_json()
            assert response.get_json()["error"]["code"] == "store_unavailable"
    finally:
        _stop(process)
        clear_chroma_cache()
