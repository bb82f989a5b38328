"""Planted: an explorer whose kept checkers share the scratch checker's containers.

:class:`SharingKeptModel` is :class:`~scenarios._explore._model.ProtocolModel` with a
scratch checker whose ``kept`` copy shares the containers its events changed
(``tests/planted/written_kept.py``) instead of copying them: no kept checker is fed, yet
the scratch's next events rewrite kept states. ``tests/scenarios/test_explore_monitor.py``
re-reads every kept checker after a whole search and must find one whose state moved.
"""

from __future__ import annotations

from scenarios._explore._model import ProtocolModel
from scenarios._trace._checks import MonitorState, TraceChecker
from tests.planted.written_kept import written_kept

__all__ = ["SharingKeptModel"]


class _WrittenKeptChecker(TraceChecker):
    def kept(self, origin: TraceChecker, theirs: MonitorState, mine: MonitorState) -> TraceChecker:
        return written_kept(self, origin, theirs, mine)


class SharingKeptModel(ProtocolModel):
    def _fed(self, parent: TraceChecker, before: MonitorState, monitor: int, number: int) -> int:
        if self._scratch is None:
            self._scratch = parent.fork()
            self._scratch.__class__ = _WrittenKeptChecker  # the bug: kept copies share
        return super()._fed(parent, before, monitor, number)
