"""A timer heap whose compaction assumes a timer only ever moves later.

:class:`LatestDeadlineCompaction` rebuilds the heap keeping, per owner and key, only the
entry of the latest deadline, and of those only the held ones: right while timers are
postponed (a push deadline moved on), wrong for a timer moved back to an earlier instant,
whose live entry is then dropped and which never fires. ``tests/actors/test_timers.py``
must catch it (random arm/move/cancel/advance sequences against a reference list).
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable

from actors import TimerOwner, TimerService


class LatestDeadlineCompaction(TimerService):
    def _compact(self, heap: list[tuple[float, int, TimerOwner, Hashable]]) -> None:
        latest: dict[tuple[int, Hashable], tuple[float, int, TimerOwner, Hashable]] = {}
        for entry in heap:
            mark = (id(entry[2]), entry[3])
            if mark not in latest or entry[0] > latest[mark][0]:
                latest[mark] = entry
        kept = [entry for entry in latest.values() if entry[2].holds_timer(entry[3], entry[1])]
        heap[:] = kept
        heapq.heapify(heap)
