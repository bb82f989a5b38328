"""Planted: a :class:`~protocol.Checkout` taking a buyer's address one character longer than
the limit (``text(200)`` made ``text(201)``), a survivor of the mutation audit of the POS
(``protocol/_machines/_pos.py``): no test held the limit.

Made from the real class's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_machines_mutants.py`` catches it.
"""

from __future__ import annotations

import ast
from typing import Any

from protocol import Checkout
from tests.planted.mutant import mutant

__all__ = ["LongBuyerCheckout"]


class _Longer(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if ast.unparse(node) == "text(200)":
            node.args = [ast.Constant(201)]  # the bug: one character more
        return node


LongBuyerCheckout: Any = mutant(Checkout, _Longer())
