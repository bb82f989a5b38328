"""Planted: a phone that records no refusal naming no request (the last
``self.refusals.append(message)`` of :meth:`~protocol.PhoneMachine.handle` dropped): the
cloud's refusal of a subscription or of a message it did not expect is lost. A survivor of
the mutation audit of the phone (``protocol/_machines/_phone.py``, #104).

Made from the real method's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_machines_mutants.py`` catches it.
"""

from __future__ import annotations

import ast

from protocol import PhoneMachine
from tests.planted.mutant import mutant

__all__ = ["UnrecordingPhone"]


class _DropLastRecord(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.If:
        self.generic_visit(node)
        if ast.unparse(node.test) == "isinstance(message, ErrorReply)":
            for i, stmt in enumerate(node.body):
                if ast.unparse(stmt) == "self.refusals.append(message)":
                    node.body[i] = ast.Pass()  # the bug: a refusal naming no request is lost
        return node


class UnrecordingPhone(PhoneMachine):
    """Records no refusal naming no request (the bug)."""

    handle = mutant(PhoneMachine.handle, _DropLastRecord())
