"""The diversity ranking of the pairing engine's answers (``best_of``,
protocol/_reco/_answer.py), which hands the candidates to Python in score order a head at a
time: it chooses what a plain ranking of every positive candidate chooses (the n-th of a
category at ``score * diversity ** n``, ties by SKU, then by the order first listed), also
when the answers lie past the head, and the comparison catches a ranking that reads the
head only."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol._reco._answer import _HEAD, Merged, best_of
from tests.planted.truncated_rank import truncated_best_of

Rank = Callable[
    [Merged, int, Callable[[int], int], Callable[[int], str], float], list[tuple[int, float, int]]
]


def plain_best(
    scores: list[float], kinds: list[int], skus: list[str], limit: int, diversity: float
) -> list[tuple[int, float, int]]:
    """Every candidate with a positive score, in score order (stable), decayed by its
    place in its category; the *limit* smallest (-decayed, SKU, place)."""
    order = sorted(range(len(scores)), key=lambda k: -scores[k])
    seen: dict[int, int] = {}
    keys = []
    for k in order:
        if not scores[k] > 0.0:
            continue
        n = seen.get(kinds[k], 0)
        seen[kinds[k]] = n + 1
        keys.append((-scores[k] * diversity**n if n else -scores[k], skus[k], k))
    return [(k, -negative, k) for negative, _, k in sorted(keys)[:limit]]


# few distinct scores (ties) and few categories; often a run of one category's best-scored
# longer than the head, so that, decayed, the answers of the others lie past it
CANDIDATES = st.builds(
    lambda run, rest: [(3.0, 0)] * run + rest,
    st.sampled_from([0, 2 * _HEAD]) | st.integers(0, 2 * _HEAD),
    st.lists(
        st.tuples(st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0]), st.integers(0, 2)),
        max_size=2 * _HEAD,
    ),
)


def ranks_like_plain(rank: Rank) -> None:
    @settings(max_examples=300, deadline=None, database=None)
    @given(CANDIDATES, st.integers(1, 6), st.sampled_from([0.01, 0.5, 1.0]))
    def check(candidates: list[tuple[float, int]], limit: int, diversity: float) -> None:
        scores = [score for score, _ in candidates]
        kinds = [kind for _, kind in candidates]
        skus = [f"S{n:03d}" for n in range(len(candidates))]
        numbers = list(range(len(candidates)))  # candidate j is listed at place j
        values = np.array(scores, dtype=np.float64)
        merged = Merged(np.array(numbers, dtype=np.int64), values, values, None, values)
        got = rank(merged, limit, kinds.__getitem__, skus.__getitem__, diversity)
        assert got == plain_best(scores, kinds, skus, limit, diversity)

    check()


def test_the_ranking_is_the_plain_one_past_the_head() -> None:
    ranks_like_plain(best_of)


def test_the_comparison_catches_a_ranking_of_the_head_only() -> None:
    with pytest.raises(AssertionError):
        ranks_like_plain(truncated_best_of)
