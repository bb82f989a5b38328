"""A planted bug: a simulated network that tells reorders by copy, not by send.

:class:`CopyNumberedNetwork` is :class:`~actors.SimNetwork` that numbers each copy of a
duplicated message as a send of its own when it judges overtaking: a held-back message
whose unheld duplicate arrived first counts as reordered, though the recipient saw only
the same message twice and nothing sent later came first. A reorder knob that reordered
nothing then looks busy beside a duplicate knob (in the ``faults`` scenario, 326 of the
431 counted were overtaken by their own copy alone) and ``idle_faults`` names nothing.
``tests/actors/test_reorder_overtaken.py`` must catch it.
"""

from __future__ import annotations

from collections.abc import Hashable

from actors import SimNetwork
from actors._simnet import _Arrival

__all__ = ["CopyNumberedNetwork"]


class CopyNumberedNetwork(SimNetwork):
    def timer_due(self, key: Hashable, seq: int, now: float) -> None:
        if isinstance(key, _Arrival):
            key = key._replace(number=key.number << 1)  # BUG: each copy judged as a send
        super().timer_due(key, seq, now)
