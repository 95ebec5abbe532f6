"""The arithmetic behind bench/peer_llamaindex.py's figures: hits counted per article, padding per batch.

The benchmark itself needs the optional `bench` extra and minutes of embedding; these checks need neither.
"""

from __future__ import annotations

from bench.peer_llamaindex import hits, padded_tokens


def test_hits_count_an_article_once_whichever_side_retrieved_it():
    questions = [{"docs": ["a"]}, {"docs": ["b"]}, {"docs": ["c"]}]
    ranked = [["a", "a", "x"],            # first: a hit at 1
              ["x", "x", "x", "y", "b"],  # b is the third distinct article, however many passages before it
              ["x", "y"]]               # never found
    assert hits(ranked, questions, 1) == 1 / 3
    assert hits(ranked, questions, 2) == 1 / 3
    assert hits(ranked, questions, 3) == 2 / 3


def test_padding_follows_how_the_model_is_called():
    texts = ["a" * n for n in (10, 1, 9, 2)]  # sentence-transformers sorts by characters within each call
    tokens = [10, 1, 9, 2]
    assert padded_tokens(texts, tokens, call=4, batch=2) == 2 * 10 + 2 * 2  # one call: [10, 9], [2, 1]
    assert padded_tokens(texts, tokens, call=2, batch=2) == 2 * 10 + 2 * 9  # calls of 2: [10, 1], [9, 2]
