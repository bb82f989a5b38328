"""Planted: a POS deaf to the phone's ``NoticeAck`` (its ``if isinstance(message, NoticeAck)``
branch dropped from :meth:`~protocol.PosMachine.handle`): the receipt notice is re-sent to
the phone until the POS gives up, though it arrived. A survivor of the mutation audit of the
POS (``protocol/_machines/_pos.py``).

Made from the real method's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_machines_mutants.py`` catches it.
"""

from __future__ import annotations

import ast

from protocol import PosMachine
from tests.planted.mutant import mutant

__all__ = ["DeafNoticePos"]


class _NoNoticeAck(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.stmt:
        self.generic_visit(node)
        if ast.unparse(node.test) == "isinstance(message, NoticeAck)":
            return ast.Pass()  # the bug: the acknowledgement of a notice is ignored
        return node


class DeafNoticePos(PosMachine):
    """Ignores the phone's NoticeAck (the bug)."""

    handle = mutant(PosMachine.handle, _NoNoticeAck())
