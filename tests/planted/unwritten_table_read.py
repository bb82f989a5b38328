"""Planted: a pairing engine whose questions read the pairing lists' table directly
(``self._list_table`` in :meth:`PairingEngine._pair`, not the ``_lists`` that writes the
lists the last refresh left unwritten first), so a question asked after a refresh reads
the lists of an earlier one. Made from the real method's source
(:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_engine_unwritten_lists.py``
compares the answers with an engine that writes every list at its refresh and must catch
it."""

from __future__ import annotations

import ast

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["UnwrittenTableReadEngine"]


class _TableRead(ast.NodeTransformer):
    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if node.attr == "_lists" and isinstance(node.value, ast.Name):
            node.attr = "_list_table"  # the bug: the table as it is, lists unwritten
        return node


class UnwrittenTableReadEngine(PairingEngine):
    _pair = mutant(PairingEngine._pair, _TableRead())
