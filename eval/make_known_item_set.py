"""Generate a known-item question set from a corpus: one question per sampled article, built from its title.

    python -m eval.make_known_item_set ../shared/data/reuters21578.jsonl --n 2000 --seed 7 \
        --out /tmp/reuters-known-2000.jsonl
    newsrag --data-dir data/reuters eval --reuse-store --questions /tmp/reuters-known-2000.jsonl \
        --out reports/reuters-known

Each question is the article's title (ticker symbols such as `<DD>` removed, white space collapsed) and its
only gold document is that article, so the set measures retrieval at scale: `hit@1`, `hit@4`, `hit@10` and
`mrr@10` say how often, and how high, the system ranks the one article a user is looking for. The corpus is
read with the ingester's own reader (rag.corpus.load_articles), so any format the ingester reads works and the
ids are the ones the store holds; records the ingester skips are skipped here too.

Articles are left out when their title is empty, shorter than --min-words words, or shared (after the same
clean-up, case-insensitive) with another article: such a title names no single article, so it cannot be
scored as a known item. The sample is drawn with a seeded random generator, so the same corpus, --n and
--seed give the same file.

Answer accuracy is NOT meaningful on this set. A title is not a question with one short answer, so every
question carries the title itself as its accepted answer, only to satisfy the question-set format (which needs
at least one accepted answer): `accuracy` then merely says whether the answer text repeats the title words,
and `refusal_accuracy`, `false_refusal_rate` and `correct` say little more. Read the retrieval metrics and the
latency; ignore the answer metrics. Generated sets of thousands of questions belong in /tmp or reports/, not in
the repository.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

from rag.corpus import load_articles

_TICKER = re.compile(r"<[^<>]*>")


def question_from_title(title: str) -> str:
    """The title as a user would type it: ticker symbols removed, white space collapsed."""
    return " ".join(_TICKER.sub(" ", title).split())


def known_item_records(articles, n: int, seed: int, min_words: int = 3) -> list[dict]:
    """Up to n question records, one per randomly chosen article whose cleaned title is unique."""
    titles = {article.id: question_from_title(article.title or "") for article in articles}
    counts = Counter(title.casefold() for title in titles.values())
    eligible = sorted(article_id for article_id, title in titles.items()
                      if len(title.split()) >= min_words and counts[title.casefold()] == 1)
    chosen = random.Random(seed).sample(eligible, min(n, len(eligible)))
    return [{"id": f"ki-{article_id}", "question": titles[article_id], "answers": [titles[article_id]],
             "docs": [article_id], "unanswerable": False, "type": "known_item"} for article_id in chosen]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", help="corpus file or folder, in any format the ingester reads")
    parser.add_argument("--n", type=int, default=2000, help="number of questions (default 2000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the sample (default 7)")
    parser.add_argument("--min-words", type=int, default=3,
                        help="leave out titles shorter than this many words (default 3)")
    parser.add_argument("--max-bytes", type=int, default=500_000_000,
                        help="largest corpus file read (default 500 MB; the ingester's own limit is the "
                             "max_article_bytes setting, so raise that to ingest a large JSONL file)")
    parser.add_argument("--out", required=True, help="JSONL file to write (e.g. /tmp/known-2000.jsonl)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.n < 1:
        raise SystemExit("--n must be at least 1")
    loaded = load_articles(args.corpus, args.max_bytes)
    for where, reason in loaded.skipped:
        print(f"skipped {where}: {reason}", file=sys.stderr)
    records = known_item_records(loaded.articles, args.n, args.seed, args.min_words)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    print(f"{len(records)} known-item questions from {len(loaded.articles)} articles "
          f"({len(loaded.skipped)} records skipped by the reader) -> {out}", file=sys.stderr)
    return 0 if len(records) == args.n else 1


if __name__ == "__main__":
    raise SystemExit(main())
