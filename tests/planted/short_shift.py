"""A pairing engine with a planted bug in how a refresh packs each (list, candidate) into
one sort key: the candidate's field is ``bit_length() - 1`` of the product count wide
(the count's base-2 logarithm), one bit short when the count is one more than a power of
two, so the last product's number runs into its list's field. Made from
:meth:`protocol.PairingEngine._compute_lists`'s own source
(:func:`tests.planted.mutant.mutant`); ``tests/protocol/test_engine_lists.py`` compares
the lists of engines of every product count near a power of two with the plain loop's
and must catch it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["ShortShiftEngine"]


class _Short(ast.NodeTransformer):
    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "shift":
            # the bug: len(self._products).bit_length() - 1
            node.value = ast.BinOp(node.value, ast.Sub(), ast.Constant(1))
        return node


class ShortShiftEngine(PairingEngine):
    _compute_lists: Callable[..., Any] = mutant(PairingEngine._compute_lists, _Short())
