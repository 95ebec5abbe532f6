"""The extractive answer stage: with each passage's sentences analyzed and embedded at ingest (now) against
analyzing (spaCy) and embedding them when the question is asked (what a store ingested before analysis was
stored gets, and what the answer stage did before).

    .venv/bin/python -m bench.answer_stage --data-dir /tmp/bench-data/reuters-full --runs 3
    .venv/bin/python -m bench.answer_stage --data-dir D --questions eval/sets/fixture.jsonl

Each question is retrieved once; then both answer it from the same passages, the embedding cache cleared
first but for the question's own embedding (retrieval made it, as in the service), alternating which goes
first. "Same answer" is the share of questions on which both give the same text
and citations. The question's own analysis (spaCy on the question) is timed apart.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.common import (QUESTIONS, load_questions, median, percentile, print_load_at_end,
                          print_machine, spread, table)
from rag.config import load_settings
from rag.models import drained
from rag.service import build_answerer, build_service


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="an ingested store (data_dir)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians of per-run p50/p95 (default 3)")
    parser.add_argument("--questions", default=str(QUESTIONS),
                        help="one question a line, or a .jsonl question set (its `question` fields)")
    parser.add_argument("--top-k", type=int, default=5)
    return parser.parse_args(argv)


def questions_from(path: str) -> list[str]:
    if path.endswith(".jsonl"):
        return [json.loads(line)["question"] for line in Path(path).read_text().splitlines() if line.strip()]
    return load_questions(Path(path))


def main(argv=None) -> int:
    args = parse_args(argv)
    print_machine()
    settings = load_settings(data_dir=args.data_dir)
    service = build_service(settings)
    questions = questions_from(args.questions)
    retrieved = [(q, service.retriever.retrieve(q, args.top_k, None).passages) for q in questions]
    stored = service.answerer.sentences_of

    def at_question_time(passages):
        return [stored.analyzed_now(p) for p in passages]

    answerers = {"analyzed at question time (before)": build_answerer(settings, service.embedder, service.analyzer,
                                                                      at_question_time),
                 "stored at ingest (now)": service.answerer}
    p50s = {name: [] for name in answerers}
    p95s = {name: [] for name in answerers}
    same, question_ms = 0, []
    for run in range(args.runs):
        times = {name: [] for name in answerers}
        order = list(answerers) if run % 2 == 0 else list(reversed(answerers))
        for question, passages in retrieved:
            started = time.perf_counter()
            service.analyzer.question(question)
            question_ms.append((time.perf_counter() - started) * 1000)
            texts = {}
            for name in order:
                service.embedder.clear_cache()
                service.embedder.embed_query(question)  # retrieval embedded it: the service's answer stage never does
                started = time.perf_counter()
                answer = drained(answerers[name].stream(question, passages))
                times[name].append((time.perf_counter() - started) * 1000)
                texts[name] = (answer.answer, [c.passage.passage_id for c in answer.citations])
            same += run == 0 and len(set(map(str, texts.values()))) == 1
        for name in answerers:
            p50s[name].append(percentile(times[name], 50))
            p95s[name].append(percentile(times[name], 95))
        print(f"run {run + 1}: " + "; ".join(f"{name} p50 {percentile(times[name], 50):.1f} ms"
                                             for name in answerers), flush=True)
    before, now = list(answerers)
    rows = [[name, median(p50s[name]), spread(p50s[name]), median(p95s[name])] for name in answerers]
    print(f"\n{len(questions)} questions x {args.runs} runs, top_k {args.top_k}, store {args.data_dir}")
    print(table(["answer stage", "p50 ms (median)", "range", "p95 ms"], rows))
    print(f"p50 before / now: {median(p50s[before]) / median(p50s[now]):.1f}x; the question's own analysis p50 "
          f"{percentile(question_ms, 50):.1f} ms (inside both); same answer and citations on {same} of "
          f"{len(questions)} questions")
    print_load_at_end()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
