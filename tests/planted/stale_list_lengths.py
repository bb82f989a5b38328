"""The table of pairing lists with a planted bug in its writes: a recomputed list's
length is only written when it grew (``np.maximum`` of the old and new lengths), so a
list that became shorter (a candidate it lost to the bound, or a ``pairings`` made
smaller) still shows its old last candidates. Made from
:meth:`protocol._reco._lists.ListTable.store`'s own source
(:func:`tests.planted.mutant.mutant`); ``tests/protocol/test_engine_list_table.py``
compares the table with plain lists and must catch it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol._reco._lists import ListTable
from tests.planted.mutant import mutant

__all__ = ["StaleLengthsListTable"]


class _OnlyLonger(ast.NodeTransformer):
    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        target = node.targets[0]
        if (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Attribute)
            and target.value.attr == "lengths"
            and isinstance(node.value, ast.Name)
        ):
            # the bug: a length only ever grows
            node.value = ast.parse("np.maximum(self.lengths[rows], counts)", mode="eval").body
        return node


class StaleLengthsListTable(ListTable):
    store: Callable[..., Any] = mutant(ListTable.store, _OnlyLonger())
