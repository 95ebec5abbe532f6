"""Pieces of retrieval that need no store: the top of a keyword ranking."""

import numpy as np
import pytest

from rag.retrieve import top_indices


@pytest.mark.parametrize("n", [3, 40, 1000, 34_448])
@pytest.mark.parametrize("k", [1, 10, 40])
def test_the_top_k_are_those_a_stable_sort_of_all_scores_gives_ties_included(n, k):
    rng = np.random.default_rng(n * k)
    for scores in (rng.random(n), rng.integers(0, 4, n).astype(float), np.zeros(n)):  # no ties; many; all
        assert top_indices(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()
