"""A timer heap that counts its stale entries but never rebuilds itself.

:class:`NeverCompactingHeap` keeps every moved or cancelled timer's entry until its
instant, as the world's heap did before it compacted (at 5k purchases 18.4k of 30.4k
entries stale). ``tests/actors/test_timers.py`` must catch it (a timer moved 10,000 times
keeps the heap within a small multiple of its live timers).
"""

from __future__ import annotations

from collections.abc import Hashable

from actors import TimerOwner, TimerService


class NeverCompactingHeap(TimerService):
    def _compact(self, heap: list[tuple[float, int, TimerOwner, Hashable]]) -> None:
        pass
