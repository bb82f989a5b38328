"""Planted: a field cloud's relay that passes a ``NoticeAck`` from any phone to a till of
the ack's merchant (the receipt-holder clause dropped, as before the reviewer's finding
S2). Any phone can then silence a till's receipt notices; with a POS that also takes any
phone's ack, an offline buyer never gets its receipt.

Made from the real :func:`scenarios._field._serve.relay_policy` with that clause removed
(:func:`tests.planted.mutant.mutant`). ``tests/scenarios/test_threat_model.py`` catches it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from actors import MayRelay
from scenarios._field._serve import ReceiptHolders, relay_policy
from tests.planted.mutant import mutant

__all__ = ["any_ack_relay_policy"]


class _NoHolderClause(ast.NodeTransformer):
    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        self.generic_visit(node)
        kept = [v for v in node.values if "holders(" not in ast.unparse(v)]
        assert kept, "the real relay_policy changed: update the plant"
        node.values = kept
        return node


any_ack_relay_policy: Callable[[ReceiptHolders], MayRelay] = mutant(relay_policy, _NoHolderClause())
"""``relay_policy`` passing any phone's notice acknowledgement (the bug)."""
