"""The table of pairing lists with a planted bug in its growth: the new, larger array is
made but the lists already stored are not copied into it, so every product whose list
the refresh does not recompute answers as if it had none once the table grows (a product
learned past its rows). Made from :meth:`protocol._reco._lists.ListTable.fit`'s own
source (:func:`tests.planted.mutant.mutant`: the statement ``cells[:have, :, :wide] =
self.cells`` dropped); ``tests/protocol/test_engine_list_table.py`` compares the table
with plain lists and an engine's lists with the plain loop's, and must catch it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol._reco._lists import ListTable
from tests.planted.mutant import mutant

__all__ = ["UncopiedListTable"]


class _Uncopied(ast.NodeTransformer):
    def visit_Assign(self, node: ast.Assign) -> ast.AST | None:
        target = node.targets[0]
        if (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Name)
            and target.value.id == "cells"
        ):
            return None  # the bug: the stored lists left behind in the old array
        return node


class UncopiedListTable(ListTable):
    fit: Callable[..., Any] = mutant(ListTable.fit, _Uncopied())
