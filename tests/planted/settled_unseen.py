"""A checker with a planted bug: its monitor state leaves out the ledger's ``_settled``.

Step 501: the promise ledger remembers which (receipt, POS) uploads were acknowledged or
refused at that POS (82d6185). ``assocsim explore`` merges two paths whose world states
and checker states (:meth:`~scenarios.TraceChecker.monitor_state`) are equal, so a fact
that decides a verdict and is not in the state merges a path where a POS's upload was
answered with one where it was not: one verdict stands for both. :class:`SettledUnseen`
reads every cell but that set. ``tests/scenarios/test_explore_monitor.py`` must tell.
"""

from __future__ import annotations

from typing import Any

from scenarios import TraceChecker

__all__ = ["SettledUnseen"]

_LEDGER = 1  # the ledger's cells' owner in a checker's layout (facts, ledger, invariants)


class SettledUnseen(TraceChecker):
    def _cells(self) -> list[Any]:
        cells = super()._cells()
        where = self._laid_out().shape.cells
        return [
            cell
            for cell, (owner, name) in zip(cells, where, strict=True)
            if (owner, name) != (_LEDGER, "_settled")  # the bug
        ]
