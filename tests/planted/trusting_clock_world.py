"""A planted bug: an inline world that adds up its clock's time whatever the clock's rate.

:meth:`actors.World._frozen` lets an inline world add up the time of a MockClock at rate
0 itself, instead of asking the clock after each jump. :class:`TrustingClockWorld` trusts
every MockClock so: under one that also runs with the real time (rate > 0), the times it
hands the machines and the trace are the deadlines, not what trio's clock reads.
``tests/actors/test_inline_clock.py`` must catch it.
"""

from __future__ import annotations

import trio.testing

from actors import World

__all__ = ["TrustingClockWorld"]


class TrustingClockWorld(World):
    def _frozen(self, clock: trio.testing.MockClock | None) -> bool:
        return clock is not None  # BUG: a clock at rate > 0 moves by itself too
