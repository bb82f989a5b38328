"""Planted: a simulated network that finds out only on arrival that nobody holds the
recipient's address (the ``recipient not in self._endpoints`` check of
``SimNetwork._deliver`` dropped, the network before reviewer B's F5): with latency, the
``UnknownAddress`` is raised from the timer heap, out of the step that sent it: no
``send-failed``, an error (inline) or a traceback (``--scheduling tasks``), where the
memory transports trace a ``send-failed`` and go on.

Made from the real method's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/actors/test_unknown_address.py`` catches it.
"""

from __future__ import annotations

import ast

from actors import SimNetwork
from tests.planted.mutant import mutant

__all__ = ["ArrivalCheckedNetwork"]


class _NoCheckAtSending(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.stmt:
        if ast.unparse(node.test) == "recipient not in self._endpoints":
            return ast.Pass()  # the bug: an unknown recipient found only on arrival
        return node


class ArrivalCheckedNetwork(SimNetwork):
    """Checks the recipient only when the message arrives (the bug)."""

    _deliver = mutant(SimNetwork._deliver, _NoCheckAtSending())
