"""Planted: an outbox whose ``acknowledge`` of a key it no longer keeps still answers with
a cancel of its re-send timer (the ``return NOTHING`` of a repeated or late answer made
``pass``). A repeated ``PushAck`` then yields effects, and the cloud's ``supersede_push``
takes any answer for a superseded push. A survivor of the mutation audit of the outbox.

Made from the real method's source with that one statement made ``pass``
(:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_machines_mutants.py`` catches
it.
"""

from __future__ import annotations

import ast

from protocol.lowlevel import Outbox
from tests.planted.mutant import mutant

__all__ = ["EchoingOutbox"]


class _KeepGoing(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.If:
        node.body = [ast.Pass()]  # the bug: an unknown key is cancelled all the same
        return node


class EchoingOutbox(Outbox):
    """Answers every acknowledgement with a cancel (the bug)."""

    acknowledge = mutant(Outbox.acknowledge, _KeepGoing())
