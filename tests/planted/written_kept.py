"""Planted: a kept checker that shares with the scratch checker the containers its last
events changed, instead of copying them.

The explorer moves one scratch ``TraceChecker`` from state to state and, when it
reaches a new state, keeps a copy of it (``TraceChecker.kept``): the containers the
events left equal to the origin's are the origin's, the others copied. Shared with the
scratch instead, the next events fed to the scratch write into the kept checker, whose
state is already numbered, and two paths would merge on a state neither had.
``tests/scenarios/test_explore_monitor.py`` shows the real copy keeps its state and this
one does not.
"""

from __future__ import annotations

from scenarios import TraceChecker
from scenarios._trace._checks import MonitorState


def written_kept(
    scratch: TraceChecker, origin: TraceChecker, theirs: MonitorState, mine: MonitorState
) -> TraceChecker:
    """``scratch.kept(origin, theirs, mine)``, but each changed cell the scratch's own."""
    copy = TraceChecker.kept(scratch, origin, theirs, mine)
    mine_at, copy_at = scratch._laid_out(), copy._laid_out()
    for at, (owner, name) in enumerate(mine_at.shape.cells):
        if mine[at] is not theirs[at]:
            copy_at.owners[owner][name] = mine_at.owners[owner][name]  # the bug: not copied
    copy._cell_values = None
    return copy
