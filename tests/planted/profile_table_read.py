"""Planted: a pairing engine whose questions read the phone profiles' table directly
(``self._profile_table`` in :meth:`PairingEngine._pair`, not the ``_profiles`` that
writes the profiles the last refresh left unwritten first), so a question asked after a
refresh reads a phone's profile of an earlier one (or none). Made from the real method's
source (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_engine_unwritten_lists.py`` compares the answers with an engine
that writes every profile at its refresh and must catch it."""

from __future__ import annotations

import ast

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["ProfileTableReadEngine"]


class _TableRead(ast.NodeTransformer):
    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if node.attr == "_profiles" and isinstance(node.value, ast.Name):
            node.attr = "_profile_table"  # the bug: the table as it is, profiles unwritten
        return node


class ProfileTableReadEngine(PairingEngine):
    _pair = mutant(PairingEngine._pair, _TableRead())
