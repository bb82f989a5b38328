"""A pairing engine with a planted bug in how a question reads a product learned since the
last refresh whose number is past the table's rows: as a product never learned, through
its category (what no row could suggest), instead of as an empty list. Its answer then
depends on whether the table happened to have a spare row for the product, not on the
uploads up to the last refresh. Made from :meth:`protocol.PairingEngine._pair`'s own
source (:func:`tests.planted.mutant.mutant`); ``tests/protocol/test_engine_list_table.py``
asks about products learned since a refresh, with and without a spare row, and must catch
it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["UnrowedAsStrangerEngine"]


class _AsStranger(ast.NodeTransformer):
    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.orelse, ast.Name) and node.orelse.id == "NO_LIST":
            # the bug: no row read as a product never learned
            node.orelse = ast.parse("self._compute_list(None, basket[name])", mode="eval").body
        return node


class UnrowedAsStrangerEngine(PairingEngine):
    _pair: Callable[..., Any] = mutant(PairingEngine._pair, _AsStranger())
