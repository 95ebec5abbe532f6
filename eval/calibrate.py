"""Refusal calibration: the evidence features (rag.answer.Evidence) of every question of several sets, and the
trade-off between answering wrongly and declining wrongly as the thresholds move.

    python -m eval.calibrate --set CORPUS QUESTIONS [--set CORPUS QUESTIONS ...] --out features.json
    python -m eval.calibrate --features features.json          # the trade-off table from saved features

Each set is ingested into a fresh temporary store; the features come from the same code the answerer runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
from pathlib import Path

from eval.dataset import load_questions
from eval.metrics import answer_accuracy
from eval.runner import in_process_service
from rag.answer import Evidence, holds_answer
from rag.config import load_settings
from rag.models import Turn


def features_of_set(corpus: str, questions_path: str, stores: str | None = None) -> list[dict]:
    """stores: keep each set's store in a folder here and reuse it on the next run (ingestion is incremental)."""
    rows = []
    settings = load_settings()
    if stores:
        settings = settings.replace(data_dir=str(Path(stores) / Path(corpus).resolve().as_posix().replace("/", "_")))
    with in_process_service(settings, [corpus], bool(stores), False, None) as (service, _):
        answerer = service.answerer
        for question in load_questions(questions_path):
            history = [Turn("user", h) for h in question.history]
            query = service.standalone(question.question, history, top_k=10)
            passages = service.retriever.retrieve(query, 10, None).passages
            found = answerer.findings(query, passages)
            text = " ".join(s.text for s in found.chosen)
            rows.append({"set": Path(questions_path).parent.name + "/" + Path(questions_path).stem,
                         "id": question.id, "unanswerable": question.unanswerable,
                         "right": (not question.unanswerable) and answer_accuracy(text, question.answers),
                         **dataclasses.asdict(found.evidence)})
    return rows


def holds(row: dict, min_score: float, min_coverage: float, close_meaning: float, same_meaning: float) -> bool:
    fields = {f.name for f in dataclasses.fields(Evidence)}
    return holds_answer(Evidence(**{k: v for k, v in row.items() if k in fields}), min_score, min_coverage,
                        close_meaning, same_meaning)


def tradeoff(rows: list[dict], *thresholds: float) -> dict:
    """Per set: answered wrongly (unanswerable answered), declined wrongly (answerable declined) and right
    (answerable, answered, with an accepted answer in its sentences)."""
    result = {}
    for name in sorted({r["set"] for r in rows}):
        unanswerable = [r for r in rows if r["set"] == name and r["unanswerable"]]
        answerable = [r for r in rows if r["set"] == name and not r["unanswerable"]]
        result[name] = {
            "answered_wrongly": sum(holds(r, *thresholds) for r in unanswerable) / max(1, len(unanswerable)),
            "declined_wrongly": sum(not holds(r, *thresholds) for r in answerable) / max(1, len(answerable)),
            "right": sum(r["right"] and holds(r, *thresholds) for r in answerable) / max(1, len(answerable))}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", nargs=2, action="append", default=[], metavar=("CORPUS", "QUESTIONS"))
    parser.add_argument("--out", help="save the features here")
    parser.add_argument("--features", help="read saved features instead of computing them")
    parser.add_argument("--stores", help="keep the sets' stores in this folder and reuse them")
    args = parser.parse_args()
    rows = json.loads(Path(args.features).read_text()) if args.features else []
    for corpus, questions in args.set:
        rows += features_of_set(corpus, questions, args.stores)
    if args.out:
        Path(args.out).write_text(json.dumps(rows))
    print("min_score min_coverage close_meaning same_meaning | per set: answered wrongly / declined wrongly / right")
    for thresholds in itertools.product((0.3, 0.35, 0.4), (0.2, 0.3, 0.4, 0.5), (0.4, 0.45, 0.5),
                                        (0.5, 0.55, 0.6, 0.65, 0.7, 1.0)):
        cells = "  ".join(f"{n.split('/')[-1]} {v['answered_wrongly']:.2f}/{v['declined_wrongly']:.2f}/{v['right']:.2f}"
                          for n, v in tradeoff(rows, *thresholds).items())
        print(" ".join(f"{t:.2f}" for t in thresholds), "|", cells)


if __name__ == "__main__":
    main()
