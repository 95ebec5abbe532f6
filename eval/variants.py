"""A question set as people also type it: in lower case, in title case, or with a name misspelled. Evaluating
a variant beside its set shows how much of the answering rests on the question being typed with care.

    python -m eval.variants eval/sets/seed.jsonl --kind misspelled --out /tmp/seed-misspelled.jsonl
    newsrag eval --questions /tmp/seed-misspelled.jsonl --reuse-store

Kinds:
  lower       every letter in lower case ("who did pak myong ho meet in ulaanbaatar?")
  title       every word capitalized ("Who Did Pak Myong Ho Meet In Ulaanbaatar?")
  misspelled  the longest capitalized word of six letters or more after the first word, with the first two
              different neighbouring letters from its third on swapped ("Gombosuren" -> "Gobmosuren",
              "Ulaanbaatar" -> "Ulanabaatar"); a question without one is left out

Only the question changes: ids, accepted answers, gold articles and histories are kept.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from spacy.lang.en.stop_words import STOP_WORDS

from eval.dataset import QuestionSetError, load_questions

KINDS = ("lower", "title", "misspelled")
_NAME = re.compile(r"(?<=\s)[A-Z][a-z]{5,}")
_WORD_START = re.compile(r"(?<![\w'’])([a-z])")


def variant(question: str, kind: str) -> str | None:
    """The question typed the way kind says; None when a misspelling has no word to change."""
    if kind == "lower":
        return question.lower()
    if kind == "title":
        return _WORD_START.sub(lambda m: m.group(1).upper(), question)
    if kind == "misspelled":
        names = [m for m in _NAME.finditer(question) if m.group().lower() not in STOP_WORDS]
        if not names:
            return None
        name = max(names, key=lambda m: len(m.group()))
        word = name.group()
        i = next(i for i in range(2, len(word) - 1) if word[i] != word[i + 1])  # "Ulaanbaatar": "an", not "aa"
        return question[:name.start()] + word[:i] + word[i + 1] + word[i] + word[i + 2:] + question[name.end():]
    raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")


def write_variant(source: Path, kind: str, out: Path) -> int:
    """The set at source (validated first) written to out as kind; returns how many questions were written."""
    load_questions(source)
    lines = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if (asked := variant(record["question"], kind)) is not None:
                lines.append(json.dumps({**record, "question": asked}, ensure_ascii=False))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return len(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", type=Path, help="a question set (JSONL)")
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--out", type=Path, required=True, help="where to write the variant set")
    args = parser.parse_args(argv)
    try:
        written = write_variant(args.questions, args.kind, args.out)
    except (OSError, QuestionSetError) as exc:
        parser.exit(2, f"error: {exc}\n")
    print(f"{written} questions written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
