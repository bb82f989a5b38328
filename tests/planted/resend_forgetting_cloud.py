"""Planted: a cloud that stops keeping a push at its first re-send instead of when the
outbox gives up (``resent.gave_up and ...`` made ``or`` in ``_resend_push``). The outbox
still re-sends it, but the store no longer holds it: the receipt reads as delivered, and a
cloud restarted before the phone's ``PushAck`` never sends it again (605 lost).

A survivor of the mutation audit of the cloud; made from the real method's source with
that one edit (:func:`tests.planted.mutant.mutant`). ``tests/protocol/
test_machines_mutants.py`` catches it.
"""

from __future__ import annotations

import ast

from protocol import CloudMachine
from tests.planted.mutant import mutant

__all__ = ["ResendForgettingCloud"]


class _EitherForgets(ast.NodeTransformer):
    def visit_BoolOp(self, node: ast.BoolOp) -> ast.BoolOp:
        node.op = ast.Or()  # the bug: any re-send of a push key forgets the push
        return node


class ResendForgettingCloud(CloudMachine):
    """Forgets a push at its first re-send (the bug)."""

    _resend_push = mutant(CloudMachine._resend_push, _EitherForgets())
