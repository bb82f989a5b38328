"""A diversity ranking with a planted bug: it reads only the first candidates in score
order that :func:`~protocol._reco._answer.best_of` hands to Python at once (its head), never
the rest, so a question whose best categories decay past the head misses answers.

``tests/protocol/test_engine_ranking.py`` compares ``best_of`` with a plain ranking of every
candidate, and checks that the comparison catches this one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from protocol._reco._answer import _HEAD, Merged, best_of

__all__ = ["truncated_best_of"]


def truncated_best_of(
    merged: Merged,
    limit: int,
    category: Callable[[int], int],
    sku: Callable[[int], str],
    diversity: float,
) -> list[tuple[int, float, int]]:
    """best_of over the head of the score order only (the bug)."""
    head = np.argsort(-merged.scores, kind="stable")[: max(_HEAD, 4 * limit)]
    keep = np.sort(head)  # the head's candidates, in the order first listed
    habit = None if merged.habit is None else merged.habit[keep]
    cut = Merged(
        merged.candidates[keep], merged.co[keep], merged.near[keep], habit, merged.scores[keep]
    )
    chosen = best_of(cut, limit, category, sku, diversity)
    return [(j, score, int(keep[k])) for j, score, k in chosen]
