"""A pairing engine with a planted bug in its refresh: each product's word of the phone's
baskets is kept as of the product's own last basket instead of shifted to the phone's
newest, so two products last bought in different baskets compare the wrong baskets.

``tests/protocol/test_engine_personal.py`` checks that answers agree with the features
computed from the counts, and that the check catches this engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from protocol import PairingEngine

__all__ = ["UnalignedPersonalEngine"]


class UnalignedPersonalEngine(PairingEngine):
    """Computes the personal words as if every product were last bought in the phone's
    newest basket (the bug)."""

    def _compute_together(self, records: Any, owner: Any, products: Any, age: Any) -> Any:
        return super()._compute_together(records, owner, products, np.zeros_like(age))
