"""A pairing engine with a planted bug in its batched related categories: two categories
related as strongly are ordered by the larger name first (the name's rank negated, as
the share is), not by name.

``tests/protocol/test_engine_lists.py`` compares every category's related categories with
a plain loop and must catch it.
"""

from __future__ import annotations

import numpy as np

from protocol import PairingEngine

__all__ = ["BackwardNamesEngine"]


class BackwardNamesEngine(PairingEngine):
    """Ranks the categories' names backwards (the bug)."""

    def _category_ranks(self) -> np.ndarray:
        ranks = super()._category_ranks()
        backward: np.ndarray = ranks.max(initial=0) - ranks
        return backward
