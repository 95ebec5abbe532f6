"""Query latency per stage (embed, dense search, keyword search, fusion, answer) at several corpus sizes.

    .venv/bin/python -m bench.query_latency --corpus ../shared/data/reuters21578.jsonl --sizes 2 1000 \\
        --store 19043=/tmp/bench-data/reuters-full --runs 3

--sizes N builds (once, then reuses) a store of the first N articles under --work-dir; --store LABEL=DIR
measures an existing store. Each run asks every question of bench/reuters_questions.txt with the
embedding cache emptied first (cold questions); a last pass repeats them with the cache warm. Per stage
the p50 and p95 of each run are taken, then the median of those over the runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (QUESTIONS, load_questions, median, percentile, print_load_at_end,
                          print_machine, slice_jsonl, table)
from rag.config import load_settings
from rag.models import Filters
from rag.service import build_embedder, build_service

STAGES = ["embed", "dense", "keyword", "fusion", "answer", "total"]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", help=".jsonl file of articles for --sizes (read, never copied)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[], help="stores of the first N articles")
    parser.add_argument("--store", action="append", default=[], metavar="LABEL=DIR",
                        help="an existing data_dir to measure as it is (repeatable)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported (default 3)")
    parser.add_argument("--questions", default=str(QUESTIONS), help="one question a line")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--date-from", help="ask every question with this date filter (YYYY-MM-DD)")
    parser.add_argument("--work-dir", default=str(Path(tempfile.gettempdir()) / "bench-data"),
                        help="where slices and the --sizes stores are kept between runs")
    return parser.parse_args(argv)


def stores_to_measure(args) -> list[tuple[str, str]]:
    stores = []
    if args.sizes and not args.corpus:
        raise SystemExit("--sizes needs --corpus")
    work = Path(args.work_dir)
    for size in args.sizes:
        stores.append((str(size), str(work / "stores" / f"reuters-{size}")))
    for item in args.store:
        label, _, folder = item.partition("=")
        stores.append((label, folder))
    return stores


def ensure_store(service, corpus: Path, size: int, work: Path) -> None:
    """Ingest the slice (nothing is embedded again when the store already holds it)."""
    report = service.ingest([slice_jsonl(corpus, size, work / "bench-slices")], progress=False)
    if report.changed:
        print(f"  built the {size}-article store in {report.seconds:.0f}s", flush=True)


def measure(service, questions: list[str], top_k: int, cold: bool, filters=None) -> dict[str, list[float]]:
    if cold:
        service.embedder.clear_cache()
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for question in questions:
        answer = service.ask(question, top_k=top_k, filters=filters)
        for stage in STAGES:
            timings[stage].append(answer.timings_ms[stage])
    return timings


def measure_store(label: str, folder: str, embedder, args, questions) -> dict:
    settings = load_settings(env={}, data_dir=folder, max_article_bytes=10**9)
    service = build_service(settings, embedder)
    if label.isdigit() and label in map(str, args.sizes):
        ensure_store(service, Path(args.corpus), int(label), Path(args.work_dir))
    started = time.perf_counter()
    service.retriever.keyword_index()
    keyword_ready = time.perf_counter() - started
    articles, passages = service.store.counts()
    service.ask(questions[0], top_k=args.top_k)  # warm-up, not counted
    filters = Filters(date_from=args.date_from) if args.date_from else None
    runs = [measure(service, questions, args.top_k, cold=True, filters=filters) for _ in range(args.runs)]
    warm = measure(service, questions, args.top_k, cold=False, filters=filters)
    summary = {stage: (median(percentile(r[stage], 50) for r in runs),
                       median(percentile(r[stage], 95) for r in runs)) for stage in STAGES}
    summary["total, cache warm"] = (percentile(warm["total"], 50), percentile(warm["total"], 95))
    print(f"  {label}: {articles} articles, {passages} passages; keyword index ready in {keyword_ready:.2f}s; "
          f"total p50 {summary['total'][0]:.0f} ms", flush=True)
    return {"label": label, "articles": articles, "passages": passages, "stages": summary}


def main(argv=None) -> int:
    args = parse_args(argv)
    print_machine()
    questions = load_questions(Path(args.questions))
    embedder = build_embedder(load_settings(env={}))
    print(f"{len(questions)} questions x {args.runs} runs per store, top_k {args.top_k}"
          + (f", filter date_from {args.date_from}" if args.date_from else ", no filter"))
    results = [measure_store(label, folder, embedder, args, questions)
               for label, folder in stores_to_measure(args)]
    header = ["stage (ms)"] + [f"{r['articles']:,} articles ({r['passages']:,} passages) p50 / p95"
                               for r in results]
    rows = [[stage] + [f"{r['stages'][stage][0]:.1f} / {r['stages'][stage][1]:.1f}" for r in results]
            for stage in [*STAGES, "total, cache warm"]]
    print()
    print(table(header, rows))
    print_load_at_end()
    return 0


if __name__ == "__main__":
    sys.exit(main())
