"""Ingestion faults with real processes: a run killed with SIGKILL in the middle (of a first ingestion, and of
a replacement), and two ingestions at once. Afterwards the store must be usable, and the next run must leave
exactly the passages the articles call for: none missing, none twice, none left from an old version."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.analysis import Analyzer
from rag.corpus import load_articles
from rag.ingest import GROUP_ARTICLES, Ingestor
from rag.service import build_service
from tests.conftest import clear_chroma_cache, make_settings

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = 160  # two groups of GROUP_ARTICLES (128), so a kill can fall between them
WORDS = ("harbour council ministry tariff grain copper pipeline union budget election court museum railway "
         "reservoir festival vaccine satellite bridge refinery cooperative orchestra fishery").split()
PLACES = ("Ostmere Serevia Valdoria Kaldor Merrowick Teskara Lunaria Pellwick Halvik Amberlin Orvel Tamsel").split()


def write_corpus(folder: Path, seed: int = 1, edition: str = "") -> Path:
    """ARTICLES varied articles of about 300 words as one .jsonl file (articles.jsonl)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "articles.jsonl").open("w") as out:
        for n in range(ARTICLES):
            sentences = []
            for _ in range(24):
                a, b = rng.sample(WORDS, 2)
                sentences.append(f"The {a} in {rng.choice(PLACES)} reported {rng.randint(2, 9999):,} new {b} "
                                 f"cases on day {rng.randint(1, 28)}{edition}.")
            out.write(json.dumps({"id": f"story-{n:03d}", "title": f"Story {n} about the {rng.choice(WORDS)}",
                                  "body": " ".join(sentences), "published_at": f"2025-0{1 + n % 9}-1{n % 9}",
                                  "source": "Fault Wire"}) + "\n")
    return folder


def chunked_corpus(settings, corpus: Path):
    return Ingestor(None, None, Analyzer(), settings).chunked(load_articles(corpus, settings.max_article_bytes).articles)


def expected_passages(settings, corpus: Path) -> dict[str, int]:
    return {a.id: len(chunks) for a, chunks in chunked_corpus(settings, corpus)}


def first_group_writes(settings, corpus: Path) -> int:
    """Records Chroma takes in for the first group of articles: passages, their sentences, article records."""
    group = chunked_corpus(settings, corpus)[:GROUP_ARTICLES]
    return sum(len(chunks) + sum(len(c.sentences) for c in chunks) + 1 for _, chunks in group)


def env_for(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update({"RAG_DATA_DIR": str(data_dir), "RAG_LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1"})
    return env


def start_ingest(data_dir: Path, corpus: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli", "ingest", str(corpus), "--quiet", "--json"], cwd=ROOT,
                            env=env_for(data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_ingest(data_dir: Path, corpus: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "cli", "ingest", str(corpus), "--quiet", "--json"], cwd=ROOT,
                          env=env_for(data_dir), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def queued_writes(data_dir: Path) -> int:
    """Records Chroma has taken in so far (the last sequence number of its write queue in SQLite, which grows
    even when Chroma purges the queue after a large write), read without disturbing the writer."""
    path = data_dir / "chroma" / "chroma.sqlite3"
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2) as db:
            return db.execute("SELECT coalesce(max(seq_id), 0) FROM embeddings_queue").fetchone()[0]
    except sqlite3.Error:  # not created yet, or locked by the writer this instant
        return 0


def kill_after_writes(process: subprocess.Popen, data_dir: Path, at_least: int, timeout: float = 300) -> int:
    """SIGKILL the process once Chroma holds at least `at_least` more records; the count it was killed at."""
    start = queued_writes(data_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"ingestion ended before it could be killed: {process.stderr.read()}")
        seen = queued_writes(data_dir)
        if seen - start >= at_least:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            return seen
        time.sleep(0.05)
    process.kill()
    raise AssertionError("ingestion wrote nothing in time")


def check_store_is_exact(settings, corpus: Path) -> None:
    """Every article stored with exactly its passages, each once, of its current version; nothing else."""
    clear_chroma_cache()
    service = build_service(settings)
    try:
        expected = expected_passages(settings, corpus)
        got = service.store.passages.get(include=["metadatas"])
        keys = [(m["article_id"], m["index"]) for m in got["metadatas"]]
        assert len(keys) == len(set(keys)), "a passage is stored twice"
        assert sorted(keys) == sorted((a, i) for a, n in expected.items() for i in range(n))
        hashes = {a.id: a.content_hash[:12] for a in load_articles(corpus, settings.max_article_bytes).articles}
        assert all(pid.rsplit("::", 1)[-1] == hashes[pid.split("::")[0]] for pid in got["ids"]), "an old version"
        states = service.store.article_states()
        assert {a: s.n_passages for a, s in states.items()} == expected
        assert service.health()["passages"] == sum(expected.values())
    finally:
        clear_chroma_cache()


@pytest.fixture
def fault_settings(tmp_path):
    return make_settings(tmp_path)


def test_a_run_killed_mid_way_leaves_a_usable_store_and_the_next_run_completes_it(fault_settings, tmp_path):
    data, corpus = fault_settings.data_path, write_corpus(tmp_path / "corpus")
    total = sum(expected_passages(fault_settings, corpus).values())
    process = start_ingest(data, corpus)
    # Chroma takes a group's passages, then their sentences, then their article records: past those of the
    # first group, it is complete and the second is still being analyzed and embedded
    killed_at = kill_after_writes(process, data, at_least=first_group_writes(fault_settings, corpus))
    assert process.returncode == -signal.SIGKILL

    clear_chroma_cache()
    service = build_service(fault_settings)  # the lock went with the process; the store opens and answers
    try:
        stored = service.health()["passages"]
        assert 0 < stored < total, (stored, total, killed_at)
        counts, states = service.store.passage_counts(), service.store.article_states()
        complete = sum(s.n_passages for a, s in states.items() if counts.get(a) == s.n_passages)
        assert complete > 0
        answer = service.ask("Which ministry reported new copper cases in Halvik?")
        assert answer.passages and all(p.article_id.startswith("story-") for p in answer.passages)
    finally:
        clear_chroma_cache()

    report = run_ingest(data, corpus)
    assert report["passages_written"] == total - complete and report["skipped"] == []
    check_store_is_exact(fault_settings, corpus)
    again = run_ingest(data, corpus)
    assert again["added"] == again["updated"] == again["passages_written"] == 0


def test_a_replacement_killed_mid_way_loses_neither_version(fault_settings, tmp_path):
    data, corpus = fault_settings.data_path, write_corpus(tmp_path / "corpus")
    first = run_ingest(data, corpus)
    assert first["added"] == ARTICLES
    write_corpus(corpus.parent / "corpus", edition=" this week")  # every article changes
    process = start_ingest(data, corpus)
    kill_after_writes(process, data, at_least=256)

    clear_chroma_cache()
    service = build_service(fault_settings)
    try:  # every article still has a whole version: the old one, or the new one
        counts = service.store.passage_counts()
        assert set(counts) == {f"story-{n:03d}" for n in range(ARTICLES)}
        states = service.store.article_states()
        assert all(counts[a] >= s.n_passages for a, s in states.items())
    finally:
        clear_chroma_cache()

    report = run_ingest(data, corpus)
    assert report["updated"] and report["added"] == 0
    check_store_is_exact(fault_settings, corpus)


def test_two_ingestions_at_once_the_second_is_refused_and_the_store_stays_whole(fault_settings, tmp_path):
    data, corpus = fault_settings.data_path, write_corpus(tmp_path / "corpus")
    first = start_ingest(data, corpus)
    try:
        deadline = time.monotonic() + 120
        while "pid" not in ((data / "ingest.lock").read_text() if (data / "ingest.lock").exists() else ""):
            assert time.monotonic() < deadline and first.poll() is None, "the first ingestion never took the lock"
            time.sleep(0.05)
        second = subprocess.run([sys.executable, "-m", "cli", "ingest", str(corpus), "--quiet"], cwd=ROOT,
                                env=env_for(data), capture_output=True, text=True, timeout=300)
        assert second.returncode != 0
        assert "another ingestion is running" in second.stderr and f"pid {first.pid}" in second.stderr
        out, err = first.communicate(timeout=600)
        assert first.returncode == 0, err
        assert json.loads(out)["added"] == ARTICLES
    finally:
        if first.poll() is None:
            first.kill()
    check_store_is_exact(fault_settings, corpus)


@pytest.mark.parametrize("fail_at", ["passages", "record"])
def test_a_replacement_that_dies_at_any_write_keeps_a_whole_version(service, tmp_path, monkeypatch, fail_at):
    """Deterministic: the process 'dies' (an exception) at the passage write or at the record write of a
    replacement; every article must still have all the passages of one version, and the next run fixes it."""
    import shutil

    from tests.conftest import ARTICLES as FIXTURES

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(FIXTURES / "rail-strike.txt", corpus / "rail-strike.txt")
    service.ingest([corpus], progress=False)
    before = service.store.passage_counts()["rail-strike"]
    text = (corpus / "rail-strike.txt").read_text()
    (corpus / "rail-strike.txt").write_text(text.replace("18,000", "19,000"))

    class Died(Exception):
        pass

    target = service.store.passages if fail_at == "passages" else service.store.articles
    upsert = type(target).upsert  # every collection's: only the target's write dies

    def die(collection, *args, **kwargs):
        if collection.name == target.name:
            raise Died
        return upsert(collection, *args, **kwargs)

    monkeypatch.setattr(type(target), "upsert", die)
    with pytest.raises(Died):
        service.ingest([corpus], progress=False)
    monkeypatch.undo()

    got = service.store.passages.get(where={"article_id": "rail-strike"}, include=["documents"])
    versions = {pid.rsplit("::", 1)[-1] for pid in got["ids"]}
    old_hash = service.store.article_states()["rail-strike"].content_hash[:12]
    assert old_hash in versions  # the old version is whole until the new one is recorded
    assert sum(pid.endswith(old_hash) for pid in got["ids"]) == before
    assert any("18,000" in doc for doc in got["documents"])

    report = service.ingest([corpus], progress=False)
    assert report.updated == ["rail-strike"]
    got = service.store.passages.get(where={"article_id": "rail-strike"}, include=["documents"])
    assert all("18,000" not in doc for doc in got["documents"]) and any("19,000" in d for d in got["documents"])
    assert len(got["ids"]) == service.store.article_states()["rail-strike"].n_passages
