"""A pairing engine with a planted bug in its batched pairing lists: candidates tied on
their total are ordered by when the engine first learned them, not by SKU.

A plain loop orders ties by SKU, so a pairing list cut at ``pairings`` candidates would
keep other products. ``tests/protocol/test_engine_lists.py`` checks the batched lists
against a plain loop, and that the check catches this engine.
"""

from __future__ import annotations

import numpy as np

from protocol import PairingEngine

__all__ = ["NumberedTiesEngine"]


class NumberedTiesEngine(PairingEngine):
    """Ranks each product's SKU at its own number (the bug)."""

    def _rank_skus(self) -> None:
        self._sku_ranks = np.arange(len(self._skus), dtype=np.int64)
