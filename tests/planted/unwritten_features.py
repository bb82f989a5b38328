"""Planted: a pairing engine whose :meth:`PairingEngine.features` settles the counts
without first writing the pairing lists the last refresh left unwritten (its
``self._write_lists()`` call left out), so a list first read after a scorer's features
were asked for is computed from the counts as of then, not from the last refresh's.
Made from the real method's source (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_engine_unwritten_lists.py`` compares the lists and answers with an
engine that writes every list at its refresh and must catch it."""

from __future__ import annotations

import ast

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["UnwrittenFeaturesEngine"]


class _Unwritten(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        if ast.unparse(node) == "self._write_lists()":
            return ast.Pass()  # the bug: the counts settled under the unwritten lists
        return node


class UnwrittenFeaturesEngine(PairingEngine):
    features = mutant(PairingEngine.features, _Unwritten())
