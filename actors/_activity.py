"""Knowing when a run is over: a count of work not yet done.

Every message sent and every timer armed adds one; every message handled and every timer
fired takes one away, *after* the effects of that step were counted. So the count reaches
zero only when no message is in flight and no timer is pending anywhere: the run is done.
"""

from __future__ import annotations

import trio

__all__ = ["Activity"]


class Activity:
    """Outstanding work across the actors of one world."""

    def __init__(self) -> None:
        self.outstanding = 0
        self.quiet = trio.Event()

    def add(self, n: int = 1) -> None:
        self.outstanding += n

    def done(self, n: int = 1) -> None:
        self.outstanding -= n
        if self.outstanding <= 0:
            self.quiet.set()
