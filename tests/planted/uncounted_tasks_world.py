"""A planted bug: a tasks world whose actors count no work, as an inline world's do.

An inline world stops when nothing is queued and no timer is pending, so its actors
count no work (a595cc8); a tasks world stops when its count of work left is zero.
:class:`UncountedTasksWorld` leaves its actors uncounted in either scheduling: only the
crash schedule's entries are counted, and the world stops once they are done, while a
party still has sends to make. ``tests/actors/test_driver_review.py`` must catch it.
"""

from __future__ import annotations

from actors import Actor, World
from protocol import Address, Machine

__all__ = ["UncountedTasksWorld"]


class UncountedTasksWorld(World):
    def add(self, address: Address, machine: Machine) -> Actor:
        actor = Actor(
            machine,
            self.transport.open_endpoint(address),
            observer=self.observer,
            activity=None,  # BUG: counted only when the world does not stop on the count
            timers=self.timers,
        )
        self.actors[address] = actor
        return actor
