"""Planted: a POS that rings up a checkout again whenever its timer fires again
(``if key.index != self._next_checkout: return NOTHING`` dropped from
:meth:`~protocol.PosMachine.timer_fired`): a stale or repeated ``CheckoutDue`` uploads the
purchase twice and arms the following checkout twice. A survivor of the mutation audit of
the POS (``protocol/_machines/_pos.py``).

Made from the real method's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_machines_mutants.py`` catches it.
"""

from __future__ import annotations

import ast

from protocol import PosMachine
from tests.planted.mutant import mutant

__all__ = ["ReringingPos"]


class _NoStaleCheck(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.stmt:
        self.generic_visit(node)
        if ast.unparse(node.test) == "key.index != self._next_checkout":
            return ast.Pass()  # the bug: any CheckoutDue rings up its checkout
        return node


class ReringingPos(PosMachine):
    """Rings up a checkout again when its timer fires again (the bug)."""

    timer_fired = mutant(PosMachine.timer_fired, _NoStaleCheck())
