"""Planted: the refresh's cut before sorting a batch of pairing lists keeping only the
candidates strictly above a list's ``pairings``-th best total
(:func:`protocol._reco._engine._contenders` with ``>=`` made ``>``). Candidates that tie
that total are dropped before the tie-break by SKU can choose among them, so a list with a
tie at its cut comes out short. Made from the real function's source
(:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_engine_batching.py`` (against
a plain loop) and ``tests/protocol/test_engine_lists.py`` (the lists against the plain
loop's) must catch it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol._reco import _engine
from tests.planted.mutant import mutant

__all__ = ["strict_contenders"]


class _Strict(ast.NodeTransformer):
    def visit_Compare(self, node: ast.Compare) -> ast.Compare:
        self.generic_visit(node)
        if isinstance(node.left, ast.Name) and node.left.id == "total":
            node.ops = [ast.Gt() if isinstance(op, ast.GtE) else op for op in node.ops]
        return node


strict_contenders: Callable[..., Any] = mutant(_engine._contenders, _Strict())
