"""A pairing engine with a planted bug in its batched category offers: the refresh groups
the products that share an offer by category and brand only, so a product gets the
offer (colour harmony included) of the first product of its group with another colour.

``tests/protocol/test_engine_lists.py`` compares every refreshed pairing list with a plain
loop (which asks for each product's own offer) and must catch it.
"""

from __future__ import annotations

import numpy as np

from protocol import PairingEngine

__all__ = ["ColourlessGroupsEngine"]


class ColourlessGroupsEngine(PairingEngine):
    """Groups products by category and brand, not colour (the bug)."""

    def _offer_groups(self, attributes: np.ndarray) -> np.ndarray:
        return super()._offer_groups(attributes * np.array([1, 1, 0]))
