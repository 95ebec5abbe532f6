"""The embedding backends side by side: torch (sentence-transformers) and onnx-int8 (ONNX Runtime, int8
weights exported from the same model), on the same texts in the same run.

    .venv/bin/python -m bench.embedding_backends --corpus ../shared/data/reuters21578.jsonl --articles 1000 --runs 3

Three workloads: the passages ingestion embeds (title and passage text) of the first N articles, short texts
(the sentences of those passages, which ingestion embeds too) and single questions embedded one at a time
(what a question waits for before retrieval). The backends alternate which goes first from run to run, so a
busy neighbour hurts both alike; speed-ups are medians of the per-run ratios. Last, the cosine between the
two backends' vectors for the same texts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import (load_questions, median, percentile, print_load_at_end, print_machine,
                          slice_jsonl, spread, table)
from rag.analysis import Analyzer
from rag.config import EMBEDDING_BACKENDS, load_settings
from rag.corpus import load_articles
from rag.ingest import Ingestor, embedding_text
from rag.service import build_embedder


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help=".jsonl file of articles (read, never copied)")
    parser.add_argument("--articles", type=int, default=1000, help="the first N articles (default 1000)")
    parser.add_argument("--sentences", type=int, default=3000, help="short texts: the first N sentences "
                        "of those passages (default 3000)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported (default 3)")
    parser.add_argument("--backends", nargs=2, default=["torch", "onnx-int8"], choices=EMBEDDING_BACKENDS,
                        help="the baseline backend, then the one compared with it (default torch onnx-int8)")
    parser.add_argument("--threads", type=int, default=0, help="embedding_threads for both backends (default 0: "
                        "one per core; on a machine shared with other work, 1 shows what oversubscription costs)")
    parser.add_argument("--work-dir", default=tempfile.gettempdir(), help="where the article slice goes")
    return parser.parse_args(argv)


def workload_texts(path: Path, n_sentences: int) -> tuple[int, list[str], list[str]]:
    """(articles, passage texts as ingestion embeds them, the first n sentences of those passages)."""
    settings = load_settings(env={}, max_article_bytes=10**9)
    articles = load_articles(path, settings.max_article_bytes).articles
    chunked = Ingestor(None, None, Analyzer(), settings).chunked(articles)
    passages = [embedding_text(a, c) for a, chunks in chunked for c in chunks]
    sentences = [a.body[s.start:s.end] for a, chunks in chunked for c in chunks for s in c.sentences]
    return len(articles), passages, sentences[:n_sentences]


def load_embedders(backends: list[str], threads: int) -> dict:
    embedders = {}
    for backend in backends:
        started = time.perf_counter()
        embedders[backend] = build_embedder(load_settings(env={}, embedding_backend=backend,
                                                          embedding_threads=threads))
        embedders[backend].embed(["warm up the model"])
        print(f"{backend}: loaded in {time.perf_counter() - started:.1f}s", flush=True)
    return embedders


def timed(embedder, texts: list[str]) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    return time.perf_counter() - started, vectors


def question_latencies(embedder, questions: list[str]) -> list[float]:
    """Seconds for each question embedded alone (no cache), as a request does."""
    seconds = []
    for question in questions:
        started = time.perf_counter()
        embedder.embed([question])
        seconds.append(time.perf_counter() - started)
    return seconds


def run_all(embedders: dict, workloads: dict, questions: list[str], runs: int) -> tuple[dict, dict]:
    """seconds[workload][backend] per run, latencies[backend] over all runs, and the last vectors."""
    backends = list(embedders)
    seconds = {name: {b: [] for b in backends} for name in workloads}
    latencies = {b: [] for b in backends}
    vectors: dict = {name: {} for name in workloads}
    for run in range(runs):
        for backend in (backends if run % 2 == 0 else backends[::-1]):
            for name, texts in workloads.items():
                took, vectors[name][backend] = timed(embedders[backend], texts)
                seconds[name][backend].append(took)
            latencies[backend] += question_latencies(embedders[backend], questions)
        print(f"run {run + 1}: " + "; ".join(
            f"{name} " + ", ".join(f"{b} {seconds[name][b][-1]:.1f}s" for b in backends) for name in workloads),
            flush=True)
    return {"seconds": seconds, "latencies": latencies}, vectors


def speed_table(results: dict, workloads: dict, backends: list[str]) -> str:
    base, other = backends
    rows = []
    for name, texts in workloads.items():
        times = results["seconds"][name]
        ratios = [b / o for b, o in zip(times[base], times[other])]
        rows.append([f"{name} ({len(texts):,})", len(texts) / median(times[base]),
                     spread([len(texts) / s for s in times[base]]), len(texts) / median(times[other]),
                     spread([len(texts) / s for s in times[other]]), f"{median(ratios):.2f}x",
                     f"{min(ratios):.2f}–{max(ratios):.2f}x"])
    return table(["texts/s", base, "range", other, "range", f"{other} speed / {base}", "range"], rows)


def latency_table(results: dict, backends: list[str], n_questions: int) -> str:
    rows = []
    for backend in backends:
        ms = [s * 1000 for s in results["latencies"][backend]]
        rows.append([backend, percentile(ms, 50), percentile(ms, 90), max(ms)])
    base, other = (percentile(results["latencies"][b], 50) for b in backends)
    rows.append([f"{backends[1]} speed / {backends[0]} (p50)", f"{base / other:.1f}x", "", ""])
    return table([f"one question embedded alone ({n_questions} questions x runs), ms", "p50", "p90", "max"], rows)


def cosine_table(vectors: dict, backends: list[str]) -> str:
    rows = []
    for name, by_backend in vectors.items():
        cosines = np.sum(by_backend[backends[0]] * by_backend[backends[1]], axis=1)
        rows.append([name, f"{cosines.mean():.4f}", f"{np.percentile(cosines, 1):.4f}", f"{cosines.min():.4f}"])
    return table([f"cosine {backends[0]} vs {backends[1]}", "mean", "1st percentile", "min"], rows)


def main(argv=None) -> int:
    args = parse_args(argv)
    print_machine()
    path = slice_jsonl(Path(args.corpus), args.articles, Path(args.work_dir) / "bench-slices")
    n_articles, passages, sentences = workload_texts(path, args.sentences)
    questions = load_questions()
    embedders = load_embedders(args.backends, args.threads)
    print("threads: " + ", ".join(f"{b} {e.threads}" for b, e in embedders.items())
          + " (onnx-int8: ONNX Runtime intra-op threads, idle ones not spinning)")
    print(f"{n_articles} articles: {len(passages)} passages, {len(sentences)} sentences; {len(questions)} "
          f"questions; {args.runs} runs, order alternating")
    workloads = {"passages": passages, "sentences": sentences}
    results, vectors = run_all(embedders, workloads, questions, args.runs)
    vectors["questions"] = {b: e.embed(questions) for b, e in embedders.items()}
    print()
    print(speed_table(results, workloads, args.backends))
    print()
    print(latency_table(results, args.backends, len(questions)))
    print()
    print(cosine_table(vectors, args.backends))
    print_load_at_end()
    return 0


if __name__ == "__main__":
    sys.exit(main())
