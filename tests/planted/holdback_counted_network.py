"""A planted bug: a simulated network whose reorder knob counts hold-backs, not reorders.

:class:`HoldbackCountedNetwork` is :class:`~actors.SimNetwork` whose ``knob_counts`` report
every message the reorder knob held back as injected, overtaken by a later message on its
link or not (what the network counted before): a reorder on links that carry one message
at a time holds messages back and nothing arrives out of order, yet the knob looks busy
and ``idle_faults`` names nothing. ``tests/actors/test_reorder_overtaken.py`` must catch it.
"""

from __future__ import annotations

from actors import KnobCount, SimNetwork

__all__ = ["HoldbackCountedNetwork"]


class HoldbackCountedNetwork(SimNetwork):
    def knob_counts(self) -> dict[tuple[str, int], KnobCount]:
        return {
            key: count._replace(injected=count.held_back) if key[0] == "reorder" else count
            for key, count in super().knob_counts().items()
        }  # BUG: a hold-back nothing overtook counted as a reorder
