"""An explorer with a planted bug: its representatives rename the world but not the checker.

Under symmetry :class:`~scenarios._explore._model.ProtocolModel` explores each state from
its canonical representative: the state renamed, the machines' snapshots, the timers, the
messages in flight *and* the state of ``assocsim check``'s checker together
(``docs/explore.md``, "Speed"). :class:`CheckerlessRenamingModel` keeps the checker's state
as it was, so the checker reads the swapped purchases' events against the other
purchase's facts: on the reference cloud it reports promises broken that were kept.
``tests/scenarios/test_explore_symmetry.py`` must tell.
"""

from __future__ import annotations

from scenarios._explore._model import ProtocolModel

__all__ = ["CheckerlessRenamingModel"]

_MONITOR_PART = -3  # ProtocolModel's kind of part for the checker's state


class CheckerlessRenamingModel(ProtocolModel):
    def _part_renamed(self, n: int, kind: int, number: int) -> int:
        if kind == _MONITOR_PART:
            return number  # the bug: the checker's state kept, the world's renamed
        return super()._part_renamed(n, kind, number)
