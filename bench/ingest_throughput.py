"""Ingestion throughput next to the embedding model alone on the same passages, in the same run.

Ingestion analyzes every article with spaCy and embeds every passage and every sentence of it; the model-alone
baseline embeds the passages only (the work any retrieval pipeline does), with the PyTorch backend unless
--baseline-backend says otherwise, so the ratio shows ingestion (on the configured backend, onnx-int8 by default)
against what a plain sentence-transformers pipeline spends on the encoder alone.

    .venv/bin/python -m bench.ingest_throughput --corpus ../shared/data/reuters21578.jsonl --articles 1000 --runs 3

Each run ingests the first N articles into a fresh store (model loaded once, before timing), embeds the
same passage texts with the model alone, and re-ingests the unchanged articles (the skip path). The
order of ingestion and model-alone alternates between runs so that a busy neighbour hurts both alike.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench.common import median, print_load_at_end, print_machine, slice_jsonl, spread, table
from rag.analysis import Analyzer
from rag.config import load_settings
from rag.corpus import load_articles
from rag.ingest import Ingestor, embedding_text, ingestion_settings
from rag.service import build_embedder, build_service


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help=".jsonl file of articles (read, never copied)")
    parser.add_argument("--articles", type=int, default=1000, help="ingest the first N articles (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported (default 3)")
    parser.add_argument("--batch-size", type=int, help="embedding_batch_size (default: the setting's)")
    parser.add_argument("--baseline-backend", default="torch", help="the model-alone baseline's embedding_backend")
    parser.add_argument("--work-dir", default=tempfile.gettempdir(), help="where the slice and stores go")
    parser.add_argument("--model-batch-sizes", type=int, nargs="*", default=[],
                        help="also time the model alone at these batch sizes (e.g. 1 8 32 64)")
    return parser.parse_args(argv)


def clear_chroma_cache() -> None:
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def model_alone(embedder, texts: list[str]) -> float:
    started = time.perf_counter()
    embedder.embed(texts)
    return time.perf_counter() - started


def ingest_once(settings, embedder, analyzer, path: Path) -> tuple[float, float, int, int]:
    """(seconds to ingest into a fresh store, seconds to re-ingest unchanged, articles, passages)."""
    service = build_service(settings, embedder, analyzer)
    started = time.perf_counter()
    report = service.ingest([path], progress=False)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = service.ingest([path], progress=False)
    second = time.perf_counter() - started
    assert again.unchanged == len(report.added) and not again.changed, "re-ingestion changed the store"
    clear_chroma_cache()
    return first, second, len(report.added), report.passages_written


def main(argv=None) -> int:
    args = parse_args(argv)
    print_machine()
    work = Path(args.work_dir)
    path = slice_jsonl(Path(args.corpus), args.articles, work / "bench-slices")
    overrides = {"max_article_bytes": 10**9}
    if args.batch_size:
        overrides["embedding_batch_size"] = args.batch_size
    plain = load_settings(env={}, **overrides)
    base = ingestion_settings(plain)  # as `newsrag ingest` runs
    embedder = build_embedder(base)
    embedder.embed(["warm up the model"])
    baseline = build_embedder(plain.replace(embedding_backend=args.baseline_backend))  # every core
    baseline.embed(["warm up the model"])
    articles = load_articles(path, base.max_article_bytes).articles
    analyzer = Analyzer()
    texts = [embedding_text(a, c) for a, chunks in Ingestor(None, embedder, analyzer, base).chunked(articles)
             for c in chunks]
    print(f"{len(articles)} articles, {len(texts)} passages from {path}; ingestion on {base.embedding_backend}, "
          f"model alone on {args.baseline_backend}; batch size {embedder.batch_size}; {args.runs} runs")
    results = {"ingest": [], "model": [], "again": []}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(dir=work, prefix="bench-ingest-") as folder:
            settings = base.replace(data_dir=folder)
            if run % 2:
                results["model"].append(model_alone(baseline, texts))
            first, again, n_articles, n_passages = ingest_once(settings, embedder, analyzer, path)
            if not run % 2:
                results["model"].append(model_alone(baseline, texts))
        assert n_passages == len(texts), f"ingestion wrote {n_passages} passages, the model saw {len(texts)}"
        results["ingest"].append(first)
        results["again"].append(again)
        ratio = results["model"][-1] / first
        print(f"run {run + 1}: ingest {first:.1f}s, model alone {results['model'][-1]:.1f}s "
              f"(ingest at {ratio:.0%} of the model's speed), unchanged re-ingest {again:.2f}s", flush=True)
    print()
    print(report_table(results, len(articles), len(texts)))
    if args.model_batch_sizes:
        print()
        print(batch_size_table(baseline, texts, args.model_batch_sizes, args.runs))
    print_load_at_end()
    return 0


def report_table(results: dict, n_articles: int, n_passages: int) -> str:
    rows = []
    for label, key in (("ingest into a fresh store", "ingest"), ("embedding model alone", "model"),
                       ("re-ingest, nothing changed", "again")):
        seconds = results[key]
        rows.append([label, median(seconds), spread(seconds), n_articles / median(seconds),
                     n_passages / median(seconds) if key != "again" else "-"])
    ratios = [m / i for m, i in zip(results["model"], results["ingest"])]
    rows.append(["ingest speed / model speed", f"{median(ratios):.0%}",
                 f"{min(ratios):.0%}–{max(ratios):.0%}", "", ""])
    return table(["", "seconds (median)", "range", "articles/s", "passages/s"], rows)


def batch_size_table(embedder, texts: list[str], sizes: list[int], runs: int) -> str:
    """The model alone at several batch sizes, sizes interleaved within each run."""
    seconds: dict[int, list[float]] = {size: [] for size in sizes}
    for run in range(runs):
        for size in (sizes if run % 2 == 0 else sizes[::-1]):
            started = time.perf_counter()
            embedder.embed(texts, batch_size=size)
            seconds[size].append(time.perf_counter() - started)
    base = median(seconds[sizes[0]])
    rows = [[size, median(seconds[size]), spread(seconds[size]), len(texts) / median(seconds[size]),
             f"{base / median(seconds[size]):.2f}x"] for size in sizes]
    return table(["model batch size", "seconds (median)", "range", "passages/s",
                  f"speed vs batch {sizes[0]}"], rows)


if __name__ == "__main__":
    sys.exit(main())
