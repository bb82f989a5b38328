"""Planted: a pairing engine that learns the habits of the baskets learned since the last
refresh without first writing the profiles that refresh left unwritten
(:meth:`PairingEngine._learn_unlearned` without its ``self._write_profiles()`` call), so a
profile first read after the habits were read between two refreshes (by ``features()``)
is computed from the habits as of then, not from the last refresh's. Made from the real
method's source (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_engine_unwritten_lists.py`` compares the profiles and answers with
an engine that writes every profile at its refresh and must catch it."""

from __future__ import annotations

import ast

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["HabitsBeforeProfilesEngine"]


class _HabitsFirst(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        if ast.unparse(node) == "self._write_profiles()":
            return ast.Pass()  # the bug: the habits move on under the unwritten profiles
        return node


class HabitsBeforeProfilesEngine(PairingEngine):
    _learn_unlearned = mutant(PairingEngine._learn_unlearned, _HabitsFirst())
