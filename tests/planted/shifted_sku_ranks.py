"""A pairing engine with a planted off-by-one in the merge of new SKUs into the SKUs'
order: a known SKU moves up by the new ones placed up to one place after it, so a known
SKU right before a new one takes the new one's rank too.
``tests/protocol/test_engine_batching.py`` compares the ranks with a plain sort of every
SKU and must catch it."""

from __future__ import annotations

import bisect

import numpy as np

from protocol import PairingEngine

__all__ = ["ShiftedSkuRanksEngine"]


class ShiftedSkuRanksEngine(PairingEngine):
    def _rank_skus(self) -> None:
        old = len(self._sku_ranks)
        if len(self._skus) == old:
            return
        fresh = self._skus[old:]
        order = sorted(range(len(fresh)), key=fresh.__getitem__)
        ranked = self._sorted_skus
        at = [bisect.bisect_left(ranked, fresh[k]) for k in order]
        counted = np.bincount(np.array(at, dtype=np.int64), minlength=len(ranked) + 1)
        moved = np.cumsum(counted)[1:]  # the bug: one place past the known SKU's own
        ranks = np.empty(len(self._skus), dtype=np.int64)
        ranks[:old] = self._sku_ranks + moved[self._sku_ranks]
        ranks[old + np.array(order, dtype=np.int64)] = np.arange(len(order)) + at
        self._sku_ranks = ranks
        self._sorted_skus = sorted(self._skus)
