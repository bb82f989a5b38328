"""Planted: a Gatekeeper that judges a request against the receipt-holder record before
the cloud has refused a forged one (its ``not names_another_phone(...)`` clause dropped).
A request naming another phone is then answered ``unknown-receipt`` when its receipt
exists (bound to a phone that did not hand it over) and ``forged-identifier`` when it does
not: anyone can tell which receipt ids exist by forging requests as a made-up number.

Made from the real :meth:`~protocol.lowlevel.Gatekeeper.handle` with that clause removed
(:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_sec_forged.py`` catches it.
"""

from __future__ import annotations

import ast

from protocol.lowlevel import Gatekeeper
from tests.planted.mutant import mutant

__all__ = ["HoldersFirstGatekeeper"]


class _NoForgedClause(ast.NodeTransformer):
    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        self.generic_visit(node)
        kept = [v for v in node.values if "names_another_phone" not in ast.unparse(v)]
        node.values = kept
        return node


class HoldersFirstGatekeeper(Gatekeeper):
    """Checks holders before the cloud refuses a forged request (the bug)."""

    handle = mutant(Gatekeeper.handle, _NoForgedClause())
