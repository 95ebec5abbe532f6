"""Peak memory of the server with a store loaded, after answering questions.

    .venv/bin/python -m bench.server_memory --data-dir /tmp/bench-data/reuters-full --runs 3
    .venv/bin/python -m bench.server_memory --data-dir ... --vary heap_trim_every --questions many.jsonl

Each run starts `newsrag serve --no-ingest` on loopback, waits until it is ready, asks every benchmark
question, and reads the process's resident set (VmRSS) and its peak (VmHWM) from /proc. Runs alternate one
setting between two values: keyword_index_cache true/false (the peak differs when the keyword index is
rebuilt from the store), or heap_trim_every 50/0 (freed memory handed back to the system, or kept by the
allocator; it shows over hundreds of distinct questions, such as an eval set's .jsonl).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.common import (QUESTIONS, ServerProcess, get_json, load_questions, median,
                          memory_kib, post_json, print_load_at_end, print_machine, spread, table)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="an ingested store (data_dir)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind; medians reported (default 3)")
    parser.add_argument("--questions", default=str(QUESTIONS),
                        help="a text file (a question a line) or a question set (.jsonl with a question field)")
    parser.add_argument("--vary", choices=sorted(VARIED), default="keyword_index_cache",
                        help="the setting that alternates between runs (default keyword_index_cache)")
    return parser.parse_args(argv)


VARIED = {"keyword_index_cache": (("true", "keyword index loaded"), ("false", "keyword index rebuilt")),
          "heap_trim_every": (("50", "freed memory returned"), ("0", "kept by the allocator"))}


def measure_once(data_dir: str, questions: list[str], setting: str, value: str) -> dict:
    with ServerProcess(data_dir, **{setting: value}) as server:
        ready = memory_kib(server.process.pid)
        for question in questions:
            post_json(f"{server.url}/api/ask", {"question": question}, timeout=120)
        after = memory_kib(server.process.pid)
        health = get_json(f"{server.url}/api/health")
    return {"start_s": server.start_seconds, "rss_ready": ready["VmRSS"] / 1024,
            "rss_after": after["VmRSS"] / 1024, "peak": after["VmHWM"] / 1024,
            "articles": health["articles"], "passages": health["passages"]}


def main(argv=None) -> int:
    args = parse_args(argv)
    print_machine()
    questions = load_questions(Path(args.questions))
    (first_value, first_label), (second_value, second_label) = VARIED[args.vary]
    results: dict[str, list[dict]] = {first_value: [], second_value: []}
    for run in range(args.runs):
        for value in ((first_value, second_value) if run % 2 == 0 else (second_value, first_value)):
            result = measure_once(args.data_dir, questions, args.vary, value)
            results[value].append(result)
            print(f"run {run + 1}, {args.vary}={value}: ready in {result['start_s']:.1f}s, "
                  f"RSS {result['rss_after']:.0f} MiB, peak {result['peak']:.0f} MiB", flush=True)
    first = results[first_value][0]
    print(f"\n{first['articles']:,} articles, {first['passages']:,} passages; {len(questions)} questions "
          f"answered per run; {args.runs} runs each")
    rows = []
    for key, label in (("start_s", "start until ready (s)"), ("rss_ready", "RSS when ready (MiB)"),
                       ("rss_after", "RSS after the questions (MiB)"), ("peak", "peak RSS, VmHWM (MiB)")):
        rows.append([label] + [cell for value in (first_value, second_value)
                               for cell in (median(r[key] for r in results[value]),
                                            spread([r[key] for r in results[value]]))])
    print(table(["server (waitress)", first_label, "range", second_label, "range"], rows))
    print_load_at_end()
    return 0


if __name__ == "__main__":
    sys.exit(main())
