"""Planted: a pairing engine ranking its categories' names by numpy's string order (the
ranks :meth:`protocol.PairingEngine._category_ranks` made before 7-Dec-2026's review).
numpy's unicode strings drop trailing NULs, so a name and the same name with a NUL after
it tie, and the earlier learned goes first, while the plain loops (Python's order) put
the shorter first. ``tests/protocol/test_engine_batching.py`` compares the ranks with a
plain sort of the names and must catch it."""

from __future__ import annotations

import numpy as np

from protocol import PairingEngine

__all__ = ["NumpyCategoryOrderEngine"]


class NumpyCategoryOrderEngine(PairingEngine):
    def _category_ranks(self) -> np.ndarray:
        if len(self._category_order) != len(self._categories):
            names = np.array([kind.name for kind in self._categories], dtype=np.str_)
            ranks = np.empty(len(names), dtype=np.int64)
            ranks[np.argsort(names, kind="stable")] = np.arange(len(names))
            self._category_order = ranks
        return self._category_order
