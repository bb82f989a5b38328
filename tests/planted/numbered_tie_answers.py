"""A pairing engine with a planted bug in its answering: candidates of equal score are
taken in the order of their product numbers instead of the order first listed, so which
of two tied products of one category is ranked a diversity step down changes.

``tests/protocol/test_engine_answer.py`` compares the answers with the full plain-loop
ranking, and checks that the comparison catches this engine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from protocol import PairingEngine
from protocol._reco._answer import Merged, best_of

__all__ = ["NumberedTiesEngine"]


def numbered_best_of(
    merged: Merged,
    limit: int,
    category: Callable[[int], int],
    sku: Callable[[int], str],
    diversity: float,
) -> list[tuple[int, float, int]]:
    """best_of over the candidates in number order (the bug), places mapped back."""
    order = np.argsort(merged.candidates, kind="stable")
    habit = None if merged.habit is None else merged.habit[order]
    renumbered = Merged(
        merged.candidates[order], merged.co[order], merged.near[order], habit, merged.scores[order]
    )
    chosen = best_of(renumbered, limit, category, sku, diversity)
    return [(j, score, int(order[k])) for j, score, k in chosen]


class NumberedTiesEngine(PairingEngine):
    """Breaks score ties by product number (the bug)."""

    _best_of = staticmethod(numbered_best_of)
