"""A pairing engine with a planted bug in its answering: the basket's own products are
listed first with a co-purchase part of 0.0 instead of -inf, so a basket product that
another basket product's list holds scores above zero and is answered (step 506 pairs a
purchase with *other* products).

``tests/protocol/test_engine_vectorised.py`` checks the vectorised ranking against a plain
loop that never answers a basket product, and that the check catches this engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from protocol import PairingEngine

__all__ = ["AnsweredBasketEngine"]


class AnsweredBasketEngine(PairingEngine):
    """Lists the basket's own products with a co-purchase part of 0.0 (the bug)."""

    def _rank(
        self,
        candidates: Any,
        co_parts: Any,
        near_parts: Any,
        profile: Any,
        limit: int,
        **options: Any,
    ) -> Any:
        unheld = np.where(co_parts == -np.inf, 0.0, co_parts)  # the -inf parts lost
        return super()._rank(candidates, unheld, near_parts, profile, limit, **options)
