"""Planted: a pairing engine whose refresh drops the pairing lists the last refresh left
unwritten instead of writing those of the products not learned since (the
``self._write_lists(superseded=...)`` call of :meth:`PairingEngine._write_unread`, which
a refresh starts with, left out), so
a product bought in one refresh period and not in the next keeps a list older than the
last refresh that changed it: a stale list. Made from the real method's source
(:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_engine_unwritten_lists.py``
compares the lists and answers with an engine that writes every list at its refresh and
must catch it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["DroppedUnwrittenListsEngine"]


class _Dropped(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        if ast.unparse(node).startswith("self._write_lists(superseded="):
            return ast.Pass()  # the bug: the unwritten lists are dropped, not written
        return node


class DroppedUnwrittenListsEngine(PairingEngine):
    _write_unread: Callable[..., Any] = mutant(PairingEngine._write_unread, _Dropped())
