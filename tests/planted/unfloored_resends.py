"""Planted: ``assocsim run --transport tcp`` mapping the scenario's retry policy to its
processes without the wall-time floor the README promises ("re-sends are slowed to at
least 0.25 s of wall time"), each made from ``_TcpRun.__init__``'s own source with one AST
edit (:func:`tests.planted.mutant.mutant`):

* :class:`UnflooredRun`: ``retry.first_delay`` passed on as the scenario has it (the
  ``max(..., MIN_RETRY_WALL * self.speed)`` dropped): at 250x the first re-send comes 8 ms
  after the send.
* :class:`FirstOnlyRun`: the floor given to the first re-send only (``retry.max_delay``
  passed on as the scenario has it): at 250x every re-send is capped at the scenario's 60
  virtual seconds, 0.24 s of wall time.

* :class:`FewerSendsRun`: more than the timing changed (``retry.max_attempts=10`` added to
  the overrides, as a run keeping its give-up time near the scenario's might).

``tests/scenarios/test_field_resends.py`` catches the three.
"""

from __future__ import annotations

import ast

from scenarios._field._tcprun import _TcpRun
from tests.planted.mutant import mutant

__all__ = ["FewerSendsRun", "FirstOnlyRun", "UnflooredRun"]


class _FirstFloorDropped(ast.NodeTransformer):
    def visit_Assign(self, node: ast.Assign) -> ast.Assign:
        if ast.unparse(node.targets[0]) == "first" and isinstance(node.value, ast.Call):
            node.value = node.value.args[0]  # the bug: scenario.retry.first_delay as it is
        return node


class _MaxDelayKept(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if ast.unparse(node) == "max(scenario.retry.max_delay, first)":
            return node.args[0]  # the bug: the scenario's max_delay caps the floored waits
        return node


class _AttemptsCut(ast.NodeTransformer):
    def visit_List(self, node: ast.List) -> ast.List:
        if any("retry.first_delay" in ast.unparse(e) for e in node.elts):
            node.elts.append(ast.Constant("retry.max_attempts=10"))  # the bug: fewer sends
        return node


class UnflooredRun(_TcpRun):
    """Re-sends as fast as the compressed day makes them (the bug)."""

    __init__ = mutant(_TcpRun.__init__, _FirstFloorDropped())


class FirstOnlyRun(_TcpRun):
    """The floor on the first re-send only, the later ones capped below it (the bug)."""

    __init__ = mutant(_TcpRun.__init__, _MaxDelayKept())


class FewerSendsRun(_TcpRun):
    """Re-sends floored, and fewer of them (the bug: more than their timing changes)."""

    __init__ = mutant(_TcpRun.__init__, _AttemptsCut())
