"""Planted: a pairing engine that lists every basket product first with a co-purchase
part of -inf, also one learned after the last refresh (``PairingEngine._pair`` without
its ``i < known`` filter). Such a product has no row in the work arrays sized at that
refresh: once the products learned since outgrow their spare rows, the question raises
IndexError instead of being answered.

Made from the real method's source with the filter's condition dropped
(:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_engine_basket_edges.py``
asks such a basket and catches this engine.
"""

from __future__ import annotations

import ast

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["UnfilteredBasketEngine"]


class _Unfiltered(ast.NodeTransformer):
    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        node.ifs = []  # the bug: the basket's products learned since the refresh kept
        return node


class UnfilteredBasketEngine(PairingEngine):
    """Lists the basket's products learned after the last refresh too (the bug)."""

    _pair = mutant(PairingEngine._pair, _Unfiltered())
