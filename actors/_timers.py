"""One timer task for every actor of a world, over one heap of deadlines.

Actors never sleep on their own deadlines: each timer a machine arms goes into the
:class:`TimerService`'s heap, and the service's single task sleeps (one trio deadline)
until the earliest one, then hands every due timer to its actor, synchronously. So an actor
task only ever waits on its mailbox, and a virtual instant costs one wake-up of one task,
however many actors have timers.

A moved or cancelled timer leaves a stale entry behind: an entry counts only while its
owner still holds that entry's number for the key. Stale entries at the head are dropped
as they come; the others stay until their instant. As asyncio's event loop does, the
owners report each entry they drop (:meth:`TimerService.dropped`), and when stale entries
are more than half of a heap of over ``compact_above`` entries (100, asyncio's threshold),
checked at each drop and each instant, the heap is rebuilt from its live entries: a
rebuild is paid for by the drops that made it due (amortised O(1) per drop), and between
instants the stale entries never outnumber both the live ones and ``compact_above``.
Entries are ``(at, number, owner, key)`` with unique numbers, a total order, so a rebuilt
heap fires its timers in exactly the order the old one would have.

How much that saves depends on how far ahead timers are moved: in ``quickstart`` scaled
to 100k purchases, 360k of the 600k entries armed go stale, but never more than 416 at
once (their instants come soon), so no rebuild happens there; a timer put off again and
again (tests/actors/test_timers.py) kept every entry until its instant before.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable
from typing import Protocol

import trio

__all__ = ["TimerOwner", "TimerService", "in_heap"]


def in_heap(seq: int) -> bool:
    """Is ``seq`` the number of a heap entry (from :meth:`TimerService.arm`), not of a
    timer its owner fires itself (from :meth:`TimerService.number`)?"""
    return not seq & 1


class TimerOwner(Protocol):
    """Whoever armed a timer: an actor, or a simulated network delivering a message later."""

    def holds_timer(self, key: Hashable, seq: int) -> bool:
        """Is entry ``seq`` of ``key`` still wanted (not moved or cancelled)?"""
        ...

    def timer_due(self, key: Hashable, seq: int, now: float) -> None:
        """Entry ``seq`` of ``key`` is due."""
        ...


class TimerService:
    """The deadlines of a world's actors, and the task that fires them.

    An owner that moves or cancels a timer whose entry is in the heap (its number passes
    :func:`in_heap`) calls :meth:`dropped` once that entry is no longer held.
    """

    def __init__(self, *, compact_above: int = 100) -> None:
        self.compact_above = compact_above  # a smaller heap is not worth rebuilding
        self._heap: list[tuple[float, int, TimerOwner, Hashable]] = []
        self._seq = 0  # even numbers for heap entries, odd for the others: see in_heap
        self._stale = 0  # entries in the heap no longer held by their owner
        self._sleep: trio.CancelScope | None = None

    @property
    def entries(self) -> int:
        """Entries in the heap, stale ones included."""
        return len(self._heap)

    @property
    def stale(self) -> int:
        """Entries in the heap whose timer was moved or cancelled since: exact with
        :class:`~actors.Actor` owners; an owner that takes a popped entry later (the field
        cloud's driver) and moves its timer in between counts one too many, which only
        brings a rebuild earlier."""
        return self._stale

    def number(self) -> int:
        """A fresh entry number (for a timer its actor fires itself, being due already)."""
        seq = self._seq
        self._seq = seq + 2
        return seq + 1

    def arm(self, owner: TimerOwner, key: Hashable, at: float) -> int:
        """Schedule ``owner``'s timer ``key`` at ``at``; returns the entry's number."""
        seq = self._seq
        self._seq = seq + 2
        _heappush(self._heap, (at, seq, owner, key))
        sleep = self._sleep
        if sleep is not None and at < sleep.deadline:
            sleep.deadline = at
        return seq

    def dropped(self, count: int = 1) -> None:
        """``count`` heap entries were moved or cancelled (their owners hold them no more);
        rebuild the heap from its live entries once the stale ones are the majority."""
        stale = self._stale + count
        heap = self._heap
        if 2 * stale > len(heap) > self.compact_above:
            self._compact(heap)
            stale = 0
        self._stale = stale

    def _compact(self, heap: list[tuple[float, int, TimerOwner, Hashable]]) -> None:
        # In place: fire_due may be iterating over this very list (a step it runs drops).
        heap[:] = [entry for entry in heap if entry[2].holds_timer(entry[3], entry[1])]
        heapq.heapify(heap)

    def fire_due(self, now: float) -> None:
        """Hand every timer due at ``now`` to its actor, in deadline then arming order."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, seq, owner, key = _heappop(heap)
            if owner.holds_timer(key, seq):
                owner.timer_due(key, seq, now)
            else:
                self._stale -= 1

    def _next_deadline(self) -> float:
        heap = self._heap
        if 2 * self._stale > len(heap) > self.compact_above:  # live ones fired since a drop
            self._compact(heap)
            self._stale = 0
        while heap:  # runs at every instant: the head unpacked once per entry
            at, seq, owner, key = heap[0]
            if owner.holds_timer(key, seq):
                return at
            _heappop(heap)  # moved or cancelled
            self._stale -= 1
        return math.inf

    async def run(self) -> None:
        """Fire timers as virtual (or real) time reaches them, until cancelled."""
        while True:
            with trio.CancelScope(deadline=self._next_deadline()) as sleep:
                self._sleep = sleep
                await trio.sleep_forever()
            self._sleep = None
            self.fire_due(trio.current_time())


_heappush = heapq.heappush
_heappop = heapq.heappop
