"""Co-purchase counters with a planted bug in their batch merge: a flush forgets the last
basket recorded since the previous one. ``tests/protocol/test_engine_counts.py`` compares
the counters with a plain loop and must catch it."""

from __future__ import annotations

from protocol._reco._counts import PairCounts

__all__ = ["LastBatchDroppedCounts"]


class LastBatchDroppedCounts(PairCounts):
    def flush(self) -> None:
        if self._sizes:  # the bug: the newest basket is left out of the merge
            del self._flat[len(self._flat) - self._sizes.pop() :]
            self._pending = None
        super().flush()
