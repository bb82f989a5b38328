"""Planted: a pairing engine whose refresh ranks a category's best sellers among the
products learned since the last refresh only (:meth:`PairingEngine._rank_best` without
the best of the last refresh among its candidates), so a best seller not bought in a
period drops out. Made from the real method's source
(:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_engine_counts.py`` compares
the best sellers with the top of a plain count and must catch it."""

from __future__ import annotations

import ast

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["ForgetfulBestSellersEngine"]


class _OldBestLeftOut(ast.NodeTransformer):
    def visit_Assign(self, node: ast.Assign) -> ast.AST | None:
        if ".best for c in changed" in ast.unparse(node):
            return None  # the bug: the best of the last refresh not among the candidates
        return node


class ForgetfulBestSellersEngine(PairingEngine):
    _rank_best = mutant(PairingEngine._rank_best, _OldBestLeftOut())
