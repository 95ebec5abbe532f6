"""What the PyTorch encoder's idle threads do while they wait: spin (OpenMP's default) or sleep
(OMP_WAIT_POLICY=PASSIVE, which rag.config.offline_environment sets before torch loads), on a quiet machine and
on a busy one. (The onnx-int8 backend's threads are told not to spin by its session options.)

    .venv/bin/python -m bench.thread_policy --busy 2 --runs 3

Each policy runs in its own process (OpenMP reads the variable when torch loads), embedding the benchmark
questions one at a time (a question's path) and 64 passages-sized texts in batches (ingestion's path); the
processes alternate. "--busy N" runs N busy-looping processes beside them, as other work on the machine would
(a test run, a second request, an ingestion).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys

from bench.common import (ROOT, QUESTIONS, load_questions, median, percentile, print_load_at_end, print_machine,
                          spread, table)

POLICIES = {"spin (OpenMP default)": "ACTIVE", "sleep (PASSIVE, the default now)": "PASSIVE"}
CHILD = """
import json, sys, time
from rag.embedding import Embedder
questions = json.loads(sys.argv[1])
embedder = Embedder(backend="torch")  # OpenMP is torch's; onnx-int8 never spins (see rag/embedding.py)
embedder.embed(["warm up"])
single = []
for question in questions:
    started = time.perf_counter()
    embedder.embed([question])
    single.append((time.perf_counter() - started) * 1000)
texts = [" ".join(questions) * 3] * 64
started = time.perf_counter()
embedder.embed(texts)
print(json.dumps({{"single": single, "batch": time.perf_counter() - started}}))
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--busy", type=int, default=0, help="busy-looping processes beside the encoder")
    return parser.parse_args(argv)


def _spin(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def measure(policy: str, questions: list[str]) -> dict:
    env = {**os.environ, "OMP_WAIT_POLICY": policy, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(questions)], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> int:
    args = parse_args(argv)
    print_machine()
    questions = load_questions(QUESTIONS)
    stop = multiprocessing.Event()
    busy = [multiprocessing.Process(target=_spin, args=(stop,), daemon=True) for _ in range(args.busy)]
    for process in busy:
        process.start()
    p50s = {name: [] for name in POLICIES}
    p95s = {name: [] for name in POLICIES}
    batches = {name: [] for name in POLICIES}
    try:
        for run in range(args.runs):
            for name in (list(POLICIES) if run % 2 == 0 else list(reversed(POLICIES))):
                got = measure(POLICIES[name], questions)
                p50s[name].append(percentile(got["single"], 50))
                p95s[name].append(percentile(got["single"], 95))
                batches[name].append(got["batch"])
                print(f"run {run + 1}, {name}: question p50 {p50s[name][-1]:.1f} ms, 64 texts "
                      f"{batches[name][-1]:.2f} s", flush=True)
    finally:
        stop.set()
        for process in busy:
            process.join()
    print(f"\n{len(questions)} questions one at a time and 64 texts in batches, {args.runs} runs, "
          f"{args.busy} busy processes beside")
    rows = [[name, median(p50s[name]), spread(p50s[name]), median(p95s[name]), median(batches[name]),
             spread(batches[name])] for name in POLICIES]
    print(table(["idle threads", "question p50 ms", "range", "p95 ms", "64 texts s", "range"], rows))
    print_load_at_end()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
