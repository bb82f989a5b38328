"""A pairing engine with a planted off-by-one in the merge of new SKUs into the SKUs'
order: a known SKU moves up by the new ones placed up to one place after it, so a known
SKU right before a new one takes the new one's rank too. Made from the real method's
source (:func:`tests.planted.mutant.mutant`: ``moved[ranks]`` read as ``moved[ranks +
1]``), so it stays in step with it. ``tests/protocol/test_engine_batching.py`` compares
the ranks with a plain sort of every SKU and must catch it."""

from __future__ import annotations

import ast

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["ShiftedSkuRanksEngine"]


class _OnePlaceFar(ast.NodeTransformer):
    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "moved":
            # the bug: the count of new SKUs up to one place past the known one's own
            node.slice = ast.BinOp(node.slice, ast.Add(), ast.Constant(1))
        return node


class ShiftedSkuRanksEngine(PairingEngine):
    """Moves a known SKU by the new ones placed up to one place after it (the bug)."""

    _rank_skus = mutant(PairingEngine._rank_skus, _OnePlaceFar())
