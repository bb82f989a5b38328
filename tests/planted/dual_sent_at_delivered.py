"""Planted: a promise ledger that writes a receipt's dual-send to a phone at the offset of
its delivery in the receipt's record.

:class:`~scenarios._sim._promises.PromiseLedger` keeps every fact of a receipt at one
phone in a group of slots of the receipt's record. This one is its ``_send_push`` made
from its own source (:func:`tests.planted.mutant.mutant`) with ``_P_DUAL_SENT`` read as
``_P_DELIVERED``: the delivery slot is already written, so the dual-send is never kept,
and a timeout push after it is no ``timeout-push`` violation. Report and checker share
the ledger, so ``tests/scenarios/test_promises_agree.py`` cannot see it;
``tests/scenarios/test_promises_spec.py`` must.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from scenarios._sim._promises import PromiseLedger
from tests.planted.mutant import mutant

__all__ = ["DualSentAtDelivered"]


class _DualSentAtDelivered(ast.NodeTransformer):
    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id == "_P_DUAL_SENT":
            return ast.copy_location(ast.Name("_P_DELIVERED", node.ctx), node)  # the bug
        return node


_send_push: Callable[..., Any] = mutant(PromiseLedger._send_push, _DualSentAtDelivered())


class DualSentAtDelivered(PromiseLedger):
    _send_push = _send_push
