"""Co-purchase counters with a planted bug in their row bound: a refresh period's pairs are
cut to each row's strongest ``keep`` before they are added to the stored row (the bound
must apply to the merged counts). ``tests/protocol/test_engine_counts.py`` compares the
counters with a plain loop and must catch it."""

from __future__ import annotations

import numpy as np

from protocol._reco._counts import PairCounts

__all__ = ["BoundBeforeMergeCounts"]


class BoundBeforeMergeCounts(PairCounts):
    def _period(self) -> tuple[np.ndarray, np.ndarray, int]:
        raw, _, bits = super()._period()
        keys, counts = np.unique(raw, return_counts=True)
        owners = keys >> bits
        # the bug: the period's strongest per row, before the stored counts are added
        order = np.lexsort((keys, -counts, owners))
        ranked = owners[order]
        place = np.arange(len(order)) - np.searchsorted(ranked, ranked)
        kept = np.sort(order[place < self.keep])
        return keys[kept], counts[kept], bits
