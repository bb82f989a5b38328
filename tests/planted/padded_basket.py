"""Planted: a pairing engine that pads its answer with a basket product on special offer
(``PairingEngine.associate`` with the basket's SKUs left out of the SKUs its promotions
skip when the merchant offers them: "show the shopper the deal"). Step 506 pairs a
purchase with *other* products: the ranked part still never holds a basket product, only
the appended offers do.

Made from the real method's source with one AST edit (:func:`tests.planted.mutant.mutant`):
the comprehension of the basket's SKUs gains ``if item.sku not in offers``. No example
test offers a basket product (``tests/protocol/test_engine*.py`` pass with it patched in);
the property test ``tests/protocol/test_engine_basket_property.py`` catches this engine
(``test_engine_properties.py``'s default-configuration property may too, by chance).
"""

from __future__ import annotations

import ast

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["PaddedBasketEngine"]


class _OffersPadded(ast.NodeTransformer):
    def visit_SetComp(self, node: ast.SetComp) -> ast.SetComp:
        (loop,) = node.generators
        if ast.unparse(loop.iter) == "purchase.items":  # the basket's SKUs, skipped by promotions
            unoffered = ast.Compare(
                ast.parse("item.sku", mode="eval").body,
                [ast.NotIn()],
                [ast.Name("offers", ast.Load())],
            )
            loop.ifs = [unoffered]  # the bug: a basket product on offer is not skipped
        return node


class PaddedBasketEngine(PairingEngine):
    """Appends a basket product the merchant has on offer (the bug)."""

    associate = mutant(PairingEngine.associate, _OffersPadded())
