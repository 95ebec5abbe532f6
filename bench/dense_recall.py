"""How many of the exact nearest passages Chroma's approximate (HNSW) search finds, and at what cost, by ef_search.

    .venv/bin/python -m bench.dense_recall --data-dir /tmp/reuters --questions /tmp/known-400.jsonl

The exact k nearest come from every passage embedding in the store, compared in numpy. Each ef_search is set in
turn (the dense_search_ef setting, which the store keeps), and the setting's value is put back at the end.
Reported per ef: recall@k (the share of the exact k nearest found), the share of questions whose exact nearest
passage was missed, and the query's p50/p95 over several runs. Which nearest passages are missed also changes
between starts (most likely because Chroma rebuilds, on every start, the part of its graph written since its
last save).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import (QUESTIONS, load_questions, median, percentile, print_load_at_end,
                          print_machine, table)
from rag.config import load_settings
from rag.service import build_embedder
from rag.store import Store, build_client


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="an ingested store (data_dir)")
    parser.add_argument("--questions", default=str(QUESTIONS),
                        help="a text file (a question a line) or a question set (.jsonl with a question field)")
    parser.add_argument("--ef", type=int, nargs="+", default=[100, 200, 400, 800, 1600, 3200],
                        help="ef_search values to compare")
    parser.add_argument("--k", type=int, default=40, help="candidates per search (the setting's default)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per ef; medians of per-run p50/p95")
    return parser.parse_args(argv)


def all_embeddings(collection) -> tuple[list[str], np.ndarray]:
    ids, vectors, offset = [], [], 0
    while True:
        got = collection.get(include=["embeddings"], limit=5000, offset=offset)
        if not got["ids"]:
            break
        ids.extend(got["ids"])
        vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
        offset += len(got["ids"])
    matrix = np.vstack(vectors)
    return ids, matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def open_store(settings, ef: int) -> Store:
    """The store on a fresh Chroma client, with this ef_search: a loaded index keeps the one it opened with."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    return Store(build_client(settings), settings.collection, ef)


def main(argv=None) -> int:
    args = parse_args(argv)
    print_machine()
    settings = load_settings(data_dir=args.data_dir)
    embedder = build_embedder(settings)
    store = open_store(settings, settings.dense_search_ef)  # the setting's value; put back at the end
    questions = load_questions(Path(args.questions))
    vectors = [v / np.linalg.norm(v) for v in (embedder.embed_query(q) for q in questions)]
    ids, matrix = all_embeddings(store.passages)
    # the exact k-th similarity per question: a found passage counts when it is at least as near (ties with
    # duplicate articles' passages are not misses)
    exact = [np.sort(matrix @ v)[::-1][:args.k] for v in vectors]
    print(f"{len(ids):,} passages, {len(questions)} questions, k={args.k}; dense_search_ef setting: "
          f"{settings.dense_search_ef}")
    rows = []
    try:
        for ef in args.ef:
            store = open_store(settings, ef)
            found = [store.dense_search(v, args.k, None) for v in vectors]
            recall = np.mean([sum(p.score >= e[-1] - 1e-5 for p in f) / args.k for f, e in zip(found, exact)])
            missed_first = np.mean([not f or f[0].score < e[0] - 1e-5 for f, e in zip(found, exact)])
            p50s, p95s = [], []
            for _ in range(args.runs):
                times = []
                for vector in vectors:
                    started = time.perf_counter()
                    store.dense_search(vector, args.k, None)
                    times.append((time.perf_counter() - started) * 1000)
                p50s.append(percentile(times, 50))
                p95s.append(percentile(times, 95))
            rows.append([ef, f"{recall:.4f}", f"{missed_first:.4f}", median(p50s), median(p95s)])
            print(f"ef_search {ef}: recall@{args.k} {recall:.4f}", flush=True)
    finally:
        open_store(settings, settings.dense_search_ef)
    print(table(["ef_search", f"recall@{args.k}", "nearest missed", "p50 (ms)", "p95 (ms)"], rows))
    print_load_at_end()
    return 0


if __name__ == "__main__":
    sys.exit(main())
