"""Planted: a promise ledger that keeps a new receipt's record whether or not the
message's handler wrote to it.

:meth:`~scenarios._sim._promises.PromiseLedger.message` (the checker's path, receipts by
name) hands a new receipt a blank record and keeps it only once a handler wrote to it, so
that the explorer's monitor states are those of the ledger's facts (a request, an
upload-ack naming no phone yet leave none). This one is ``message`` made from its own
source (:func:`tests.planted.mutant.mutant`) with that test made ``True``: the facts are
the same, the states are not. ``tests/scenarios/test_promises_spec.py`` must tell.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from scenarios._sim._promises import PromiseLedger
from tests.planted.mutant import mutant

__all__ = ["EagerRecords"]


class _Always(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.If:
        self.generic_visit(node)
        if "self._tail" in ast.unparse(node.test):
            node.test = ast.copy_location(ast.Constant(True), node.test)  # the bug
        return node


_message: Callable[..., Any] = mutant(PromiseLedger.message, _Always())


class EagerRecords(PromiseLedger):
    message = _message
