"""Planted: a pairing engine whose refresh reads a related category's members as its
best sellers only (:meth:`PairingEngine._compute_offered` without the catalog's other
products), so a catalog product not (yet) among the best sellers is never offered. Made
from the real method's source (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_reco_offers.py`` compares every category's offer with a plain loop
after each refresh and must catch it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["CatalogBlindOffersEngine"]


class _BestOnly(ast.NodeTransformer):
    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        if ast.unparse(node.test) == "not kind.catalog":
            return node.body  # the bug: kind.best, whatever the catalog holds
        return node


class CatalogBlindOffersEngine(PairingEngine):
    _compute_offered: Callable[..., Any] = mutant(PairingEngine._compute_offered, _BestOnly())
