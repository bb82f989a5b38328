"""Planted: a pairing engine that writes the phone profiles its last refresh left
unwritten without placing their parts in the work arrays' slots
(:meth:`PairingEngine._write_profiles` without its ``self._work.place(...)`` call), so
a question reads a phone's parts as an earlier refresh placed them (or finds none).
Made from the real method's source (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_engine_unwritten_lists.py`` compares the answers with an engine
that writes and places every profile at its refresh and must catch it."""

from __future__ import annotations

import ast

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["UnplacedProfilesEngine"]


class _Unplaced(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        if ast.unparse(node).startswith("self._work.place("):
            return ast.Pass()  # the bug: the profile written, its parts not placed
        return node


class UnplacedProfilesEngine(PairingEngine):
    _write_profiles = mutant(PairingEngine._write_profiles, _Unplaced())
