"""A pairing engine with a planted bug in its online counts: it counts a basket's pairs in
reverse order. The totals are the same, the counters' order is not, so a row cut keeps
other ties (the order is part of the model). ``tests/protocol/test_engine_counts.py``
compares the counts with the plain loop and must catch it."""

from __future__ import annotations

from protocol import PairingEngine

__all__ = ["BackwardCountsEngine"]


class BackwardCountsEngine(PairingEngine):
    def _count_pairs(
        self, ids: list[int], rows: list[dict[int, int]], hashes: list[int], cap: int
    ) -> list[dict[int, int]]:
        return super()._count_pairs(ids[::-1], rows[::-1], hashes[::-1], cap)[::-1]
