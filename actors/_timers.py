"""One timer task for every actor of a world, over one heap of deadlines.

Actors never sleep on their own deadlines: each timer a machine arms goes into the
:class:`TimerService`'s heap, and the service's single task sleeps (one trio deadline)
until the earliest one, then hands every due timer to its actor, synchronously. So an actor
task only ever waits on its mailbox, and a virtual instant costs one wake-up of one task,
however many actors have timers. Moved and cancelled timers are dropped lazily: a heap
entry counts only while its actor still holds that entry's sequence number for the key.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable
from typing import Protocol

import trio

__all__ = ["TimerOwner", "TimerService"]


class TimerOwner(Protocol):
    """Whoever armed a timer: an actor, or a simulated network delivering a message later."""

    def holds_timer(self, key: Hashable, seq: int) -> bool:
        """Is entry ``seq`` of ``key`` still wanted (not moved or cancelled)?"""
        ...

    def timer_due(self, key: Hashable, seq: int, now: float) -> None:
        """Entry ``seq`` of ``key`` is due."""
        ...


class TimerService:
    """The deadlines of a world's actors, and the task that fires them."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerOwner, Hashable]] = []
        self._seq = 0
        self._sleep: trio.CancelScope | None = None

    def number(self) -> int:
        """A fresh entry number (for a timer its actor fires itself, being due already)."""
        seq = self._seq
        self._seq = seq + 1
        return seq

    def arm(self, owner: TimerOwner, key: Hashable, at: float) -> int:
        """Schedule ``owner``'s timer ``key`` at ``at``; returns the entry's number."""
        seq = self._seq
        self._seq = seq + 1
        heapq.heappush(self._heap, (at, seq, owner, key))
        sleep = self._sleep
        if sleep is not None and at < sleep.deadline:
            sleep.deadline = at
        return seq

    def fire_due(self, now: float) -> None:
        """Hand every timer due at ``now`` to its actor, in deadline then arming order."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, seq, actor, key = heapq.heappop(heap)
            actor.timer_due(key, seq, now)

    def _next_deadline(self) -> float:
        heap = self._heap
        while heap and not heap[0][2].holds_timer(heap[0][3], heap[0][1]):
            heapq.heappop(heap)  # moved or cancelled
        return heap[0][0] if heap else math.inf

    async def run(self) -> None:
        """Fire timers as virtual (or real) time reaches them, until cancelled."""
        while True:
            with trio.CancelScope(deadline=self._next_deadline()) as sleep:
                self._sleep = sleep
                await trio.sleep_forever()
            self._sleep = None
            self.fire_due(trio.current_time())
