"""One process owns an embedded store: `newsrag serve` in a real subprocess on loopback, `newsrag ingest` in
another. Chroma does not support two processes on one folder; these are the ways that went wrong."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from rag.ingest import Ingestor, ingest_lock
from rag.owner import claim_store, store_owner
from rag.service import build_service
from server import create_app
from tests.conftest import ARTICLES, clear_chroma_cache, make_settings
from tests.test_chroma_server import _free_port, _post_json, _stop, _wait_for

ROOT = Path(__file__).resolve().parent.parent
PROCESS_TIMEOUT = 300
RAIL = {"question": "How many rail workers walked off the job in Kaldor?"}
GRAIN = {"question": "How large was Valdoria's record grain harvest?"}


def env_for(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update({"RAG_DATA_DIR": str(data_dir), "RAG_LOG_LEVEL": "WARNING", "RAG_RATE_LIMIT_PER_MINUTE": "0",
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    env.update({f"RAG_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def newsrag(data_dir: Path, *args: str, **settings) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env_for(data_dir, **settings),
                          text=True, capture_output=True, timeout=PROCESS_TIMEOUT)


def ingest(data_dir: Path, *paths: Path) -> dict:
    done = newsrag(data_dir, "ingest", *map(str, paths), "--quiet", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def serve(tmp_path):
    """Starts `newsrag serve` on a free loopback port; returns (base URL, process, its stderr file)."""
    started = []

    def start(data_dir: Path, *args: str, ready=lambda body: True):
        port, log = _free_port(), tmp_path / f"serve-{len(started)}.log"
        with log.open("w") as out:
            process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port), *args], cwd=ROOT,
                                       env=env_for(data_dir, host="127.0.0.1"), stdout=out, stderr=subprocess.STDOUT)
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/api/health", process, PROCESS_TIMEOUT, ready)
        return base, process, log

    yield start
    for process in started:
        _stop(process)


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_ingest_sends_to_the_server_that_owns_the_store(serve, tmp_path):
    data, corpus = tmp_path / "data", tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(ARTICLES / "rail-strike.txt", corpus)
    shutil.copy(ARTICLES / "flood.json", corpus)
    base, server, _ = serve(data, "--no-ingest")  # an empty store
    assert store_owner(data).url == base and store_owner(data).pid == server.pid
    assert status_of(f"{base}/api/ready") == 503

    report = ingest(data, corpus)  # as the 503 message advises
    assert report["added"] == 2 and report["passages_written"] > 2
    assert status_of(f"{base}/api/ready") == 200
    assert "18,000" in _post_json(f"{base}/api/ask", RAIL)["answer"]

    (corpus / "rail-strike.txt").write_text((corpus / "rail-strike.txt").read_text().replace("18,000", "19,500"))
    report = ingest(data, corpus)
    assert report["updated"] == 1 and report["unchanged"] == 1
    assert _post_json(f"{base}/api/ask", {"question": "Who is the mayor of Merrowick?"})["answered"]
    assert "19,500" in _post_json(f"{base}/api/ask", RAIL)["answer"]

    second = newsrag(data, "serve", "--no-ingest", "--port", str(_free_port()))
    assert second.returncode == 1 and f"already served by the server at {base}" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1


def test_ingest_names_the_owner_it_cannot_reach(tmp_path):
    data, port = tmp_path / "data", _free_port()
    with claim_store(data) as claim:
        claim.announce(f"http://127.0.0.1:{port}")
        done = newsrag(data, "ingest", str(ARTICLES / "rail-strike.txt"), "--quiet")
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and f"http://127.0.0.1:{port}" in done.stderr
    assert f"pid {os.getpid()}" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (data / "chroma").exists()  # it never opened the store


def test_serve_while_another_ingestion_holds_the_lock_serves_the_store(serve, tmp_path):
    settings = make_settings(tmp_path)
    service = build_service(settings)
    service.ingest([ARTICLES / "rail-strike.txt"], progress=False)
    try:
        with ingest_lock(settings.data_path):  # this process's ingestion, started before the server
            base, _, log = serve(settings.data_path, "--corpus", str(ARTICLES), ready=lambda body: body["ready"])
            assert "warning: another ingestion is running" in log.read_text()
            assert "18,000" in _post_json(f"{base}/api/ask", RAIL)["answer"]
            report = Ingestor(service.store, service.embedder, service.analyzer, settings)._ingest(
                [ARTICLES / "grain-harvest.md"], progress=False, prune=False)  # what that ingestion goes on to write
            assert report.added == ["grain-harvest"]
        time.sleep(2.5)  # the server looks at the store's generation at most every 2 s
        answer = _post_json(f"{base}/api/ask", GRAIN)
        assert "grain-harvest" in {c["article_id"] for c in answer["citations"]}
        assert "18,000" in _post_json(f"{base}/api/ask", RAIL)["answer"]
    finally:
        clear_chroma_cache()


def test_ready_only_when_a_question_can_be_answered(service, tmp_path):
    """A store opened empty, then written by another process: the open index would not find the new passages."""
    client = create_app(service=service).test_client()
    assert client.get("/api/ready").status_code == 503
    assert ingest(service.settings.data_path, ARTICLES / "rail-strike.txt")["added"] == 1
    assert client.get("/api/ready").status_code == 200
    response = client.post("/api/ask", json=RAIL)
    assert response.status_code == 200 and "18,000" in response.get_json()["answer"]


def changing_corpus(root: Path) -> tuple[Path, Path]:
    """A corpus folder and an article beside it, as a first ingestion finds them."""
    corpus, beside = root / "corpus", root / "beside.txt"
    shutil.copytree(ARTICLES, corpus)
    beside.write_text("date 2025-01-02\nA note beside the folder\n\nThe harbour reopened on Monday.")
    return corpus, beside


def change(corpus: Path, beside: Path) -> None:
    """One article gone, one file that cannot be read cleanly, and the article beside gone from disk too."""
    (corpus / "rail-strike.txt").unlink()
    (corpus / "articles.jsonl").write_text("{broken json\n")
    beside.unlink()


def without_seconds(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "seconds"}


def test_ingest_through_the_server_removes_what_a_local_ingest_removes(serve, tmp_path):
    local, served = tmp_path / "local", tmp_path / "served"
    corpus, beside = changing_corpus(local)
    ingest(local / "data", corpus, beside)
    change(corpus, beside)
    expected = ingest(local / "data", corpus)  # no server: the local rule
    assert expected["removed"] == 1 and expected["skipped"][0]["file"] == "articles.jsonl"

    corpus, beside = changing_corpus(served)
    base, _, _ = serve(served / "data", "--no-ingest")
    first = ingest(served / "data", corpus, beside)
    change(corpus, beside)
    assert without_seconds(ingest(served / "data", corpus)) == without_seconds(expected)
    assert status_of(f"{base}/api/articles/rail-strike") == 404  # gone from its folder
    assert status_of(f"{base}/api/articles/jsonl-solar-farm") == 200  # its file could not be read cleanly
    assert status_of(f"{base}/api/articles/beside") == 200  # from a path not ingested this time
    with urllib.request.urlopen(f"{base}/api/health", timeout=30) as response:
        assert json.loads(response.read())["articles"] == first["added"] - 1

    kept = newsrag(served / "data", "ingest", str(corpus / "flood.json"), "--no-prune", "--quiet", "--json")
    assert json.loads(kept.stdout)["removed"] == 0 and status_of(f"{base}/api/articles/grain-harvest") == 200


def test_ask_goes_to_the_server_that_owns_the_store(serve, tmp_path):
    served, elsewhere = tmp_path / "served", tmp_path / "elsewhere"
    ingest(served, ARTICLES)
    question = (RAIL["question"], "--source", "Northern Courier")
    local = newsrag(served, "ask", *question)  # no server yet: answered here
    assert local.returncode == 0 and "18,000" in local.stdout, local.stderr
    base, server, _ = serve(served, "--no-ingest")

    assert newsrag(served, "ask", *question).stdout == local.stdout
    with claim_store(elsewhere) as claim:  # a store that is empty here: the answer can only come from the owner
        claim.announce(base)
        through = newsrag(elsewhere, "ask", *question)
        as_json = newsrag(elsewhere, "ask", *question, "--json")
        empty = newsrag(elsewhere, "ask", " ")  # refused here, before a request goes out
        refused = newsrag(elsewhere, "ask", "x" * 3000, max_question_chars=5000)  # fine here, too long there
    assert through.returncode == 0 and through.stdout == local.stdout, through.stderr
    assert json.loads(as_json.stdout)["answer"] == _post_json(f"{base}/api/ask", RAIL)["answer"]
    assert empty.returncode == 1 and empty.stderr == "error: the question is empty\n"
    assert refused.returncode == 1 and refused.stderr.startswith(f"error: the server at {base}")
    assert "413 the question is 3000 characters; the limit is 2000" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not (elsewhere / "chroma").exists()  # never opened

    _stop(server)  # its owner file stays behind, unlocked: the store is opened here again
    assert store_owner(served) is None and (served / "server.lock").exists()
    assert newsrag(served, "ask", *question).stdout == local.stdout


def test_eval_reusing_an_owned_store_evaluates_through_its_server(serve, tmp_path):
    served, elsewhere = tmp_path / "served", tmp_path / "elsewhere"
    ingest(served, ARTICLES)
    base, _, _ = serve(served, "--no-ingest")
    common = ("eval", "--questions", str(ROOT / "eval" / "sets" / "fixture.jsonl"), "--limit", "6", "--quiet")
    direct = newsrag(served, *common, "--out", str(tmp_path / "direct"), "--server", base)
    assert direct.returncode == 0, direct.stderr
    with claim_store(elsewhere) as claim:
        claim.announce(base)
        reused = newsrag(elsewhere, *common, "--out", str(tmp_path / "reused"), "--reuse-store")
    assert reused.returncode == 0, reused.stderr
    assert f"served by the server at {base}" in reused.stderr
    report = json.loads((tmp_path / "reused" / "report.json").read_text())
    expected = json.loads((tmp_path / "direct" / "report.json").read_text())
    assert report["meta"]["mode"] == "http" and report["meta"]["server"] == base
    assert report["meta"]["store"] == "reused"
    assert report["overall"]["accuracy"] == expected["overall"]["accuracy"] > 0
    assert not (elsewhere / "chroma").exists()
