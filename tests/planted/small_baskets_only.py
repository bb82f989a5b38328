"""Planted: co-purchase counters whose batch recording (:meth:`PairCounts.add_baskets`,
what a refresh's settling hands every basket learned since to) appends the small baskets
and drops the big ones, which :meth:`PairCounts.add` pairs by partners one by one. Made
from the real method's source (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_engine_counts.py`` compares it with baskets added one at a time and
must catch it."""

from __future__ import annotations

import ast

from protocol._reco._counts import PairCounts
from tests.planted.mutant import mutant

__all__ = ["SmallBasketsOnlyCounts"]


class _BigOnesDropped(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.AST | list[ast.stmt]:
        if ast.unparse(node.test) == "not small.all()":
            return []  # the bug: a basket past the partners is never recorded
        return node


class SmallBasketsOnlyCounts(PairCounts):
    add_baskets = mutant(PairCounts.add_baskets, _BigOnesDropped())
