"""Planted: a promise ledger that skips its walk of the requests and uploads by counting.

At the end of a run :meth:`~scenarios._sim._promises.PromiseLedger.judge` walks every
request a phone sent, and every upload a POS sent, for those never answered; it skips a
walk when every one of them was answered, checked in C by their keys
(``requests.keys() <= replied.keys()``). This one is ``_unreplied`` and ``_unsettled`` made
from their own source (:func:`tests.planted.mutant.mutant`) with that check made by the
tables' sizes: a reply to a request the ledger never saw sent (a refusal, a response
naming no receipt) then stands in for one that never came, and the walk is skipped with
a request unanswered. ``tests/scenarios/test_report_shortcuts.py`` must tell it apart.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from scenarios._sim._promises import PromiseLedger
from tests.planted.mutant import mutant

__all__ = ["CountedReplies"]


class _BySize(ast.NodeTransformer):
    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        if isinstance(node.ops[0], ast.LtE) and ".keys()" in ast.unparse(node.left):
            key_views = [node.left, node.comparators[0]]
            sizes = [
                ast.Call(ast.Name("len", ast.Load()), [_table(view)], []) for view in key_views
            ]
            return ast.copy_location(ast.Compare(sizes[0], [ast.LtE()], [sizes[1]]), node)
        return node


def _table(view: ast.expr) -> ast.expr:
    """``table`` of ``table.keys()`` (a set as it is)."""
    if isinstance(view, ast.Call) and isinstance(view.func, ast.Attribute):
        return view.func.value
    return view


_unreplied: Callable[..., Any] = mutant(PromiseLedger._unreplied, _BySize())
_unsettled: Callable[..., Any] = mutant(PromiseLedger._unsettled, _BySize())


class CountedReplies(PromiseLedger):
    _unreplied = _unreplied  # the bug: the walk skipped when there are as many replies
    _unsettled = _unsettled
