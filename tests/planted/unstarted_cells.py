"""Co-purchase counters with a planted bug in their flat cell numbers: each row's cells
continue from the counters of the rows before it in the batch instead of starting at the
row's own first cell (the running total not subtracted), so a flush merges, and
:meth:`~protocol._reco._counts.PairCounts.rows` reads, the wrong counters of every row
but the first. ``tests/protocol/test_engine_counts.py`` compares both with a plain loop
and must catch it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from protocol._reco._counts import PairCounts

__all__ = ["UnstartedCellsCounts"]


class UnstartedCellsCounts(PairCounts):
    def _cells(
        self, rows: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        # the bug: no "- (np.cumsum(lengths) - lengths)" (cells clipped to stay in range)
        cells = np.repeat(rows * self.keep, lengths) + np.arange(int(lengths.sum()))
        clipped: npt.NDArray[np.int64] = np.minimum(cells, self._counts.size - 1)
        return clipped
