"""Planted: a pairing engine whose :meth:`PairingEngine.features` reads the counts without
settling the baskets learned since the last refresh (the ``self._settle()`` call left
out), so a scorer fitted between refreshes sees the counts of the last refresh, not those
of now. Made from the real method's source (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_engine_counts.py`` compares the features with plain counts of the
baskets learned and must catch it."""

from __future__ import annotations

import ast

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["UnsettledFeaturesEngine"]


class _Unsettled(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        if ast.unparse(node) == "self._settle()":
            return ast.Pass()  # the bug: the counts as of the last refresh
        return node


class UnsettledFeaturesEngine(PairingEngine):
    features = mutant(PairingEngine.features, _Unsettled())
