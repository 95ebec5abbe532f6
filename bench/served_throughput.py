"""Served throughput: requests/s and latency of POST /api/ask under concurrent clients on loopback.

    .venv/bin/python -m bench.served_throughput --data-dir /tmp/bench-data/reuters-full \\
        --concurrency 1 4 8 --requests 48 --runs 3 --server waitress gunicorn

A server process (`newsrag serve --no-ingest`, or gunicorn on server.wsgi) is started on 127.0.0.1 for
the store; N client threads share a bounded number of requests. "distinct" questions carry a request
number, so every question misses the embedding cache; "repeated" cycles the same questions (cache hits).
"--vary NAME V1 V2" serves the store once per value of that setting, in the same run (e.g. --vary
dense_in_memory true false); each server's resident set after the load is read from /proc (waitress only).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from bench.common import (QUESTIONS, ServerProcess, load_questions, median, memory_kib, percentile,
                          post_json, print_load_at_end, print_machine, table)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="an ingested store (data_dir)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8], help="client threads")
    parser.add_argument("--requests", type=int, default=48, help="requests per measurement (default 48)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported (default 3)")
    parser.add_argument("--server", nargs="+", default=["waitress"], choices=["waitress", "gunicorn"])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per server process (default 4)")
    parser.add_argument("--questions", default=str(QUESTIONS))
    parser.add_argument("--vary", nargs="+", metavar=("SETTING", "VALUE"), default=[],
                        help="a setting and the values to serve the store with, one after the other")
    return parser.parse_args(argv)


def load_test(url: str, questions: list[str], clients: int, total: int, distinct: bool, tag: str) -> dict:
    """Send `total` requests from `clients` threads; latencies in ms, failures counted, bounded in count."""
    latencies: list[float] = []
    failures = [0]
    counter = iter(range(total))
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            question = questions[n % len(questions)]
            if distinct:
                question = f"{question} (request {tag}-{n})"
            started = time.perf_counter()
            try:
                post_json(f"{url}/api/ask", {"question": question}, timeout=120)
            except OSError:
                with lock:
                    failures[0] += 1
                continue
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=3600)
    seconds = time.perf_counter() - started
    return {"rps": len(latencies) / seconds, "p50": percentile(latencies, 50) if latencies else 0.0,
            "p95": percentile(latencies, 95) if latencies else 0.0, "failures": failures[0]}


def measure_server(kind: str, args, questions: list[str], setting: dict) -> list[list]:
    rows = []
    label = kind + "".join(f" {name}={value}" for name, value in setting.items())
    with ServerProcess(args.data_dir, kind=kind, workers=args.workers, threads=args.threads, **setting) as server:
        processes = f"{args.workers} workers x {args.threads} threads" if kind == "gunicorn" \
            else f"1 process x {args.threads} threads"
        print(f"{label} ({processes}) ready in {server.start_seconds:.1f}s", flush=True)
        load_test(server.url, questions, max(args.concurrency), len(questions), False, "warm")  # warm-up
        for mode in ("distinct", "repeated"):
            for clients in args.concurrency:
                runs = [load_test(server.url, questions, clients, args.requests, mode == "distinct",
                                  f"{kind}{clients}r{run}") for run in range(args.runs)]
                row = [label, mode, clients, median(r["rps"] for r in runs), median(r["p50"] for r in runs),
                       median(r["p95"] for r in runs), sum(r["failures"] for r in runs)]
                print(f"  {mode} questions, {clients} clients: {row[3]:.1f} req/s, p50 {row[4]:.0f} ms, "
                      f"p95 {row[5]:.0f} ms", flush=True)
                rows.append(row)
        if kind == "waitress":
            memory = memory_kib(server.process.pid)
            print(f"  resident set {memory['VmRSS'] / 1024:.0f} MiB, peak {memory['VmHWM'] / 1024:.0f} MiB",
                  flush=True)
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    print_machine()
    questions = load_questions(Path(args.questions))
    print(f"{args.requests} requests per measurement, {args.runs} runs; store {args.data_dir}")
    name, values = (args.vary[0], args.vary[1:]) if args.vary else (None, [None])
    settings = [{name: value} if name else {} for value in values]
    rows = [row for kind in args.server for setting in settings for row in measure_server(kind, args, questions,
                                                                                          setting)]
    print()
    print(table(["server", "questions", "clients", "requests/s", "p50 ms", "p95 ms", "failed"], rows))
    print_load_at_end()
    return 0


if __name__ == "__main__":
    sys.exit(main())
