"""Planted: a POS that stops re-sending a receipt notice on any phone's ``NoticeAck`` (its
check that the ack came from the buyer the notice went to dropped, as before the
reviewer's finding S2). A stranger who learned the receipt id silences the notice, and a
buyer offline at the time never gets it.

Made from the real :meth:`~protocol.PosMachine._notice_acknowledged` with its ``if``
removed (:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_sec_notice_ack.py``
catches it.
"""

from __future__ import annotations

import ast

from protocol import PosMachine
from tests.planted.mutant import mutant

__all__ = ["AnyPhoneAcksPos"]


class _NoBuyerCheck(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.stmt:
        if "addressee" in ast.unparse(node.test):
            return ast.Pass()  # the bug: whoever acknowledges, the notice stops
        return node


class AnyPhoneAcksPos(PosMachine):
    """Takes any phone's NoticeAck for the buyer's (the bug)."""

    _notice_acknowledged = mutant(PosMachine._notice_acknowledged, _NoBuyerCheck())
