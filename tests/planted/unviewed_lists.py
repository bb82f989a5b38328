"""The table of pairing lists with a planted bug in its writes: the views a question reads
are made anew for the rows whose length did not change instead of those whose length
did, so a list that grew or shrank is read at its old length. Made from
:meth:`protocol._reco._lists.ListTable.store`'s own source
(:func:`tests.planted.mutant.mutant`: its one ``!=`` made ``==``);
``tests/protocol/test_engine_list_table.py`` compares the table with plain lists and must
catch it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol._reco._lists import ListTable
from tests.planted.mutant import mutant

__all__ = ["UnviewedListTable"]


class _Unchanged(ast.NodeTransformer):
    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if [type(op) for op in node.ops] == [ast.NotEq]:
            node.ops = [ast.Eq()]  # the bug: views remade for the rows that kept their length
        return node


class UnviewedListTable(ListTable):
    store: Callable[..., Any] = mutant(ListTable.store, _Unchanged())
