"""Peak memory of the server with a store loaded, after answering questions.

    .venv/bin/python bench/server_memory.py --data-dir /tmp/bench-data/reuters-full --runs 3

Each run starts `newsrag serve --no-ingest` on loopback, waits until it is ready, asks every benchmark
question, and reads the process's resident set (VmRSS) and its peak (VmHWM) from /proc. Runs alternate
keyword_index_cache false/true: the peak differs when the keyword index is rebuilt from the store.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (QUESTIONS, ServerProcess, get_json, load_questions, median,  # noqa: E402
                          memory_kib, post_json, print_load_at_end, print_machine, spread, table)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="an ingested store (data_dir)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind; medians reported (default 3)")
    parser.add_argument("--questions", default=str(QUESTIONS))
    return parser.parse_args(argv)


def measure_once(data_dir: str, questions: list[str], cache: bool) -> dict:
    with ServerProcess(data_dir, keyword_index_cache=str(cache).lower()) as server:
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
    results: dict[bool, list[dict]] = {False: [], True: []}
    for run in range(args.runs):
        for cache in ((True, False) if run % 2 == 0 else (False, True)):
            result = measure_once(args.data_dir, questions, cache)
            results[cache].append(result)
            print(f"run {run + 1}, keyword_index_cache={str(cache).lower()}: ready in {result['start_s']:.1f}s, "
                  f"RSS {result['rss_after']:.0f} MiB, peak {result['peak']:.0f} MiB", flush=True)
    first = results[True][0]
    print(f"\n{first['articles']:,} articles, {first['passages']:,} passages; {len(questions)} questions "
          f"answered per run; {args.runs} runs each")
    rows = []
    for key, label in (("start_s", "start until ready (s)"), ("rss_ready", "RSS when ready (MiB)"),
                       ("rss_after", "RSS after the questions (MiB)"), ("peak", "peak RSS, VmHWM (MiB)")):
        rows.append([label] + [cell for cache in (True, False)
                               for cell in (median(r[key] for r in results[cache]),
                                            spread([r[key] for r in results[cache]]))])
    print(table(["server (waitress)", "keyword index loaded", "range", "keyword index rebuilt", "range"], rows))
    print_load_at_end()
    return 0


if __name__ == "__main__":
    sys.exit(main())
