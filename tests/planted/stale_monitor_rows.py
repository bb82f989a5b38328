"""An explorer with a planted bug: a new checker state's canonical hashes taken from the
state it was reached from, the cells its events changed not renamed again.

Under symmetry :class:`~scenarios._explore._model.ProtocolModel` keeps, per checker
state, its cells' canonical hashes under each renaming, and makes a new state's from its
origin's: only the cells the events changed are renamed (``docs/explore.md``, *Speed*).
:class:`StaleMonitorRowsModel` renames none of them: a new checker state gets its
origin's form, so two histories the checker tells apart share a fingerprint.
``tests/scenarios/test_explore_symmetry.py`` must tell.
"""

from __future__ import annotations

from scenarios._explore._model import ProtocolModel
from scenarios._trace._checks import MonitorState, TraceChecker

__all__ = ["StaleMonitorRowsModel"]


class StaleMonitorRowsModel(ProtocolModel):
    def _monitor_id(self, checker: TraceChecker, state: MonitorState, since: int = -1) -> int:
        number = super()._monitor_id(checker, state, since)
        if since >= 0 and number == len(self._monitors) - 1 and len(self._monitor_rows) > number:
            # the bug: the origin's hashes, the changed cells not renamed
            self._monitor_rows[number] = self._monitor_rows[since]
            self._monitor_texts[number] = self._monitor_texts[since]
        return number
