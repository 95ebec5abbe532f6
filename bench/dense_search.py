"""Dense search on one store, now (Store.dense_search: Chroma's query directly; a filtered search first
filters the 4k nearest in memory) vs before (a count, then the query through llama-index's
ChromaVectorStore with the filters handed to Chroma), without and with filters.

    .venv/bin/python -m bench.dense_search --data-dir /tmp/bench-data/reuters-full --runs 3

Both paths get the same question embeddings; "same passages" is the share of the k passages both return.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.common import (QUESTIONS, load_questions, median, percentile, print_load_at_end,
                          print_machine, table)
from rag.config import load_settings
from rag.models import Filters
from rag.service import build_service
from rag.store import date_number

FILTERS = {"no filter": None,
           "date_from 1987-03-15 (most articles)": Filters(date_from="1987-03-15"),
           "1987-04-01 to 1987-04-02 (a few)": Filters(date_from="1987-04-01", date_to="1987-04-02"),
           "source Reuters (all)": Filters(sources=("Reuters",))}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="an ingested store (data_dir)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians of per-run p50/p95 (default 3)")
    parser.add_argument("--k", type=int, default=40, help="candidates per search (the setting's default)")
    return parser.parse_args(argv)


def llama_index_filters(filters: Filters | None):
    """The filters as the store built them before (llama-index MetadataFilters, AND)."""
    from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter, MetadataFilters

    if filters is None or filters.is_empty():
        return None
    parts = []
    if filters.date_from:
        parts.append(MetadataFilter(key="date_num", value=date_number(filters.date_from),
                                    operator=FilterOperator.GTE))
    if filters.date_to:
        parts.append(MetadataFilter(key="date_num", value=date_number(filters.date_to),
                                    operator=FilterOperator.LTE))
    if filters.date_to and not filters.date_from:
        parts.append(MetadataFilter(key="date_num", value=0, operator=FilterOperator.GT))
    if filters.sources:
        parts.append(MetadataFilter(key="source", value=list(filters.sources), operator=FilterOperator.IN))
    return MetadataFilters(filters=parts)


def before(store, vector_store, vector, k: int, filters: Filters | None) -> list[str]:
    from llama_index.core.vector_stores.types import VectorStoreQuery

    if store.passages.count() == 0:
        return []
    result = vector_store.query(VectorStoreQuery(query_embedding=vector.tolist(), similarity_top_k=k,
                                                 filters=llama_index_filters(filters)))
    return [node.node_id for node in result.nodes]


def timed(fn, vectors, filters, runs: int) -> tuple[float, float]:
    p50s, p95s = [], []
    for _ in range(runs):
        times = []
        for vector in vectors:
            started = time.perf_counter()
            fn(vector, filters)
            times.append((time.perf_counter() - started) * 1000)
        p50s.append(percentile(times, 50))
        p95s.append(percentile(times, 95))
    return median(p50s), median(p95s)


def main(argv=None) -> int:
    from llama_index.vector_stores.chroma import ChromaVectorStore

    args = parse_args(argv)
    print_machine()
    service = build_service(load_settings(env={}, data_dir=args.data_dir))
    store = service.store
    vector_store = ChromaVectorStore(chroma_collection=store.passages)
    vectors = [service.embedder.embed_query(q) for q in load_questions(QUESTIONS)]
    now = lambda v, f: [p.passage_id for p in store.dense_search(v, args.k, f)]  # noqa: E731
    old = lambda v, f: before(store, vector_store, v, args.k, f)  # noqa: E731
    rows = []
    for label, filters in FILTERS.items():
        same = [len(set(now(v, filters)) & set(old(v, filters))) / args.k for v in vectors]
        new_p50, new_p95 = timed(now, vectors, filters, args.runs)
        old_p50, old_p95 = timed(old, vectors, filters, args.runs)
        rows.append([label, old_p50, old_p95, new_p50, new_p95, f"{old_p50 / new_p50:.1f}x",
                     f"{median(same):.0%} (min {min(same):.0%})"])
    print(f"{store.counts()[1]:,} passages; {len(vectors)} questions x {args.runs} runs, k={args.k}")
    print(table(["filter", "before p50 ms", "before p95", "now p50 ms", "now p95", "p50 before/now",
                 "same passages"], rows))
    print_load_at_end()
    return 0


if __name__ == "__main__":
    sys.exit(main())
