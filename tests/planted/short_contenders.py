"""The refresh's cut before sorting a batch of pairing lists with a planted off-by-one,
for ``tests/protocol/test_engine_batching.py`` (against a plain loop) and
``tests/protocol/test_engine_lists.py`` (the lists against the plain loop's), which must
catch it: :func:`protocol._reco._engine._contenders` taking each group's floor one place
too high (its ``best - 1``-th largest total), so a list loses its last candidate. Made
from the real function's source (:func:`tests.planted.mutant.mutant`: ``width - best``
made ``width - best + 1``), so it stays in step with it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol._reco import _engine
from tests.planted.mutant import mutant

__all__ = ["short_contenders"]


class _OnePlaceHigh(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        names = [side.id for side in (node.left, node.right) if isinstance(side, ast.Name)]
        if isinstance(node.op, ast.Sub) and names == ["width", "best"]:
            return ast.BinOp(node, ast.Add(), ast.Constant(1))  # the bug: one place past
        return node


short_contenders: Callable[..., Any] = mutant(_engine._contenders, _OnePlaceHigh())
