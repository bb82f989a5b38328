"""Planted: work arrays whose summed parts rest at -0.0 instead of 0.0, so a question's
co-purchase and category sums begin at -0.0: a candidate whose parts are all -0.0 sums
to -0.0 where a loop from 0.0 gives 0.0, and the 0.0 parts of the phone's best products
(``PairingEngine._pair``) would then change a bit ("adding 0.0 changes no bit of a sum
begun at 0.0" no longer holds). ``tests/protocol/test_engine_basket_edges.py`` compares
merge's sums bit for bit with a loop from 0.0 and catches this scratch.
"""

from __future__ import annotations

from typing import Any

from protocol._reco._answer import Scratch

__all__ = ["NegativeZeroScratch"]


class NegativeZeroScratch(Scratch):
    """A :class:`Scratch` made with -0.0 in its sums' resting cells (the bug)."""

    def fit(self, rows: Any, categories: int, words: int) -> bool:
        made = super().fit(rows, categories, words)
        self.rows[:, 1:3] = -0.0
        return made
