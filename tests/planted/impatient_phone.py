"""Planted: a phone that forgets which receipt a request was about at its first re-send
(``resent.gave_up and ...`` made ``or`` in its re-send timer): the cloud's refusal of a
request that was re-sent is then taken for a repeated refusal and ignored, so the phone
keeps re-sending the request until it gives up. A survivor of the mutation audit of the
phone.

Made from the real method's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_machines_mutants.py`` catches it.
"""

from __future__ import annotations

import ast

from protocol import PhoneMachine
from tests.planted.mutant import mutant

__all__ = ["ImpatientPhone"]


class _EitherForgets(ast.NodeTransformer):
    def visit_BoolOp(self, node: ast.BoolOp) -> ast.BoolOp:
        if ast.unparse(node).startswith("resent.gave_up and"):
            node.op = ast.Or()  # the bug: any re-send of a request forgets it
        return node


class ImpatientPhone(PhoneMachine):
    """Forgets a request at its first re-send (the bug)."""

    timer_fired = mutant(PhoneMachine.timer_fired, _EitherForgets())
