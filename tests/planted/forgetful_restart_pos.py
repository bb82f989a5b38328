"""Planted: a POS that, restarted, re-sends what is unacknowledged but never re-arms its next
checkout (``if self._next_checkout < len(self._checkouts): ...`` dropped from
:meth:`~protocol.PosMachine.start`): every purchase after a crash is lost. A survivor of the
mutation audit of the POS (``protocol/_machines/_pos.py``).

Made from the real method's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_machines_mutants.py`` catches it.
"""

from __future__ import annotations

import ast

from protocol import PosMachine
from tests.planted.mutant import mutant

__all__ = ["ForgetfulRestartPos"]


class _NoRearm(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.stmt:
        self.generic_visit(node)
        if ast.unparse(node.test) == "self._next_checkout < len(self._checkouts)":
            return ast.Pass()  # the bug: the next checkout is not armed again
        return node


class ForgetfulRestartPos(PosMachine):
    """Never re-arms its next checkout after a restart (the bug)."""

    start = mutant(PosMachine.start, _NoRearm())
