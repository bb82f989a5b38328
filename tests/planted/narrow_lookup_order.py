"""Planted: a profile batch's lookup entries ordered with each key's block packed one bit
too low (:func:`protocol._reco._engine._lookup_order` shifting the block by ``width - 1``),
so a product numbered past half the width sorts among the categories. Made from the real
function's source (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_engine_batching.py`` must catch it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol._reco import _engine
from tests.planted.mutant import mutant

__all__ = ["narrow_lookup_order"]


class _BlockOneBitLow(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.BinOp:
        self.generic_visit(node)
        right = node.right
        shifted = isinstance(node.op, ast.LShift) and isinstance(right, ast.Name)
        if shifted and ast.unparse(right) == "width":  # the bug: the block a bit too low
            node.right = ast.BinOp(right, ast.Sub(), ast.Constant(1))
        return node


narrow_lookup_order: Callable[..., Any] = mutant(_engine._lookup_order, _BlockOneBitLow())
