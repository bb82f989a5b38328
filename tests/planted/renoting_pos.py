"""Planted: a POS that notes every refusal of an upload again when it is repeated (the
``return NOTHING`` after ``self._awaiting_ack.pop(receipt, None) is None`` dropped from
:meth:`~protocol.PosMachine.handle`): the cloud's refusal of a re-sent upload is reported
twice. A survivor of the mutation audit of the POS (``protocol/_machines/_pos.py``).

Made from the real method's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_machines_mutants.py`` catches it.
"""

from __future__ import annotations

import ast

from protocol import PosMachine
from tests.planted.mutant import mutant

__all__ = ["RenotingPos"]


class _NoRepeatCheck(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.If:
        self.generic_visit(node)
        if ast.unparse(node.test) == "self._awaiting_ack.pop(receipt, None) is None":
            node.body = [ast.Pass()]  # the bug: a repeated refusal goes on to be noted
        return node


class RenotingPos(PosMachine):
    """Notes a repeated refusal again (the bug)."""

    handle = mutant(PosMachine.handle, _NoRepeatCheck())
