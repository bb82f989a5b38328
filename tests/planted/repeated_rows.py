"""Co-purchase counters with a planted bug in the flush: the rows touched by a refresh
period are sorted but not made distinct, so a row named by two baskets has its stored
counters read, merged and counted twice. Made from
:meth:`protocol._reco._counts.PairCounts.flush`'s own source
(:func:`tests.planted.mutant.mutant`: ``touched[_starts(touched)]`` becomes ``touched``);
``tests/protocol/test_engine_counts.py`` compares the counters with a plain loop and must
catch it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol._reco._counts import PairCounts
from tests.planted.mutant import mutant

__all__ = ["RepeatedRowsCounts"]


class _Repeated(ast.NodeTransformer):
    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        index = node.slice
        if (
            isinstance(node.value, ast.Name)
            and node.value.id == "touched"
            and isinstance(index, ast.Call)
            and isinstance(index.func, ast.Name)
            and index.func.id == "_starts"
        ):
            return node.value  # the bug: each touched row as often as it was recorded
        return node


class RepeatedRowsCounts(PairCounts):
    flush: Callable[..., Any] = mutant(PairCounts.flush, _Repeated())
