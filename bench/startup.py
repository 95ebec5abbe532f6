"""Start-up of a process on an existing store: keyword index rebuilt from the store vs loaded from disk.

    .venv/bin/python -m bench.startup --data-dir /tmp/bench-data/reuters-full --runs 3

Each run is a fresh Python process that builds the service (model, store), makes the keyword index
ready and answers one question. Runs alternate between keyword_index_cache=false (the index rebuilt from
every passage in Chroma, as before the cache existed) and true (loaded from data_dir/keyword).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench.common import ROOT, bench_env, median, print_load_at_end, print_machine, spread, table

CHILD = """
import json, resource, time
started = time.perf_counter()
from rag.config import load_settings
from rag.service import build_service
service = build_service(load_settings())
built = time.perf_counter()
service.retriever.keyword_index()
keyword = time.perf_counter()
service.ask("What did OPEC decide about oil production quotas?")
answered = time.perf_counter()
print(json.dumps({"service": built - started, "keyword": keyword - built, "first_answer": answered - keyword,
                  "total": answered - started, "passages": service.store.counts()[1],
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="an ingested store (data_dir)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind; medians reported (default 3)")
    return parser.parse_args(argv)


def start_once(data_dir: str, cache: bool) -> dict:
    env = bench_env(data_dir=data_dir, keyword_index_cache=str(cache).lower(), log_level="WARNING")
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1800)
    if done.returncode:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    args = parse_args(argv)
    print_machine()
    start_once(args.data_dir, cache=True)  # makes sure the saved index matches the store's generation
    results: dict[bool, list[dict]] = {False: [], True: []}
    for run in range(args.runs):
        for cache in ((False, True) if run % 2 == 0 else (True, False)):
            result = start_once(args.data_dir, cache)
            results[cache].append(result)
            print(f"run {run + 1}, keyword_index_cache={str(cache).lower()}: keyword index "
                  f"{result['keyword']:.2f}s, start to first answer {result['total']:.1f}s", flush=True)
    passages = results[True][0]["passages"]
    rows = []
    for key, label in (("service", "model + store opened"), ("keyword", "keyword index ready"),
                       ("first_answer", "first answer"), ("total", "start to first answer"),
                       ("peak_rss_mib", "peak RSS (MiB)")):
        before = [r[key] for r in results[False]]
        after = [r[key] for r in results[True]]
        rows.append([label, median(before), spread(before), median(after), spread(after),
                     f"{median(before) / median(after):.1f}x"])
    print(f"\n{passages:,} passages in {args.data_dir}; {args.runs} runs each")
    print(table(["seconds (median)", "rebuilt from store", "range", "loaded from disk", "range",
                 "before / after"], rows))
    print_load_at_end()
    return 0


if __name__ == "__main__":
    sys.exit(main())
