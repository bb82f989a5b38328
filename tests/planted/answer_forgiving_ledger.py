"""Planted: a promise ledger that forgives a timeout push after an answered pull.

Step 603: the cloud pushes unasked only when no request came, so a timeout push to a phone
the cloud had already answered for that receipt is a ``timeout-push`` violation (a
duplicate in the report). This ledger's ``_judge_timeout_push`` is made from its own
source (:func:`tests.planted.mutant.mutant`) with the answer never looked up
(``answered = None``): only a push after a dual-send is judged. The report and
``assocsim check`` read the one ledger, so ``tests/scenarios/test_promises_agree.py``
cannot tell; ``tests/scenarios/test_promises_spec.py`` must (its specification states
the promise apart from the ledger).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from scenarios._sim._promises import PromiseLedger
from tests.planted.mutant import mutant

__all__ = ["AnswerForgivingLedger"]


class _NoAnswer(ast.NodeTransformer):
    def visit_Assign(self, node: ast.Assign) -> ast.Assign:
        target = node.targets[0]
        if (
            isinstance(target, ast.Name)
            and target.id == "answered"
            and "RESPONDED" in ast.unparse(node.value)
        ):
            node.value = ast.copy_location(ast.Constant(None), node.value)  # the bug
        return node


_judge_timeout_push: Callable[..., Any] = mutant(PromiseLedger._judge_timeout_push, _NoAnswer())


class AnswerForgivingLedger(PromiseLedger):
    _judge_timeout_push = _judge_timeout_push
