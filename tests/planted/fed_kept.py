"""Planted: an explorer that feeds a kept checker.

:class:`~scenarios._explore._model.ProtocolModel` keeps one checker per state it numbers
and moves one scratch checker, a fork of the first it needs, from state to state.
:class:`FedKeptModel` takes that first kept checker itself as its scratch: the events of
every later move are written into a state already numbered (and into every kept checker
sharing its containers). ``TraceChecker.seal`` makes that raise ``KeptCheckerFed``;
``tests/scenarios/test_explore_monitor.py`` must see it raised.
"""

from __future__ import annotations

from scenarios._explore._model import ProtocolModel
from scenarios._trace._checks import MonitorState, TraceChecker

__all__ = ["FedKeptModel"]


class FedKeptModel(ProtocolModel):
    def _fed(self, parent: TraceChecker, before: MonitorState, monitor: int, number: int) -> int:
        if self._scratch is None:
            self._scratch = parent  # the bug: the kept checker itself, not a fork of it
            self._scratch_state = before
        return super()._fed(parent, before, monitor, number)
