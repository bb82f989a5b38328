"""Planted: a pairing engine whose refresh recomputes the offers of the changed
categories only, not of the categories relating to one (the ``changed.update(relating[d])``
of :meth:`PairingEngine.refresh` dropped), so a category keeps offering a related
category's old best sellers at their old shares: a stale offer. Made from the real
method's source (:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_reco_offers.py``
compares every category's offer with a plain loop after each refresh and must catch it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["UnrelatedOffersEngine"]


class _Unrelated(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        if ast.unparse(node) == "changed.update(relating[d])":
            return ast.Pass()  # the bug: the relating categories keep their offers
        return node


class UnrelatedOffersEngine(PairingEngine):
    refresh: Callable[..., Any] = mutant(PairingEngine.refresh, _Unrelated())
