"""Planted: a checker fork that copies the promise ledger's tables one level only, and a
scratch checker made like another but for the facts of the trace.

The explorer forks ``assocsim check``'s ``TraceChecker`` for each new state of the
product (``docs/explore.md``, "Speed"). A record a table keeps per key as a list (the
details of a sender's ``gave-up`` notes, a receipt's facts) must be copied too: shared,
an event fed to the fork changes the checker it was forked from, whose state is already
numbered, and two paths would merge on a state neither had.
``tests/scenarios/test_explore_monitor.py`` shows the real fork keeps its origin and this
one does not. The explorer also moves one scratch checker from state to state
(``TraceChecker.become``: each cell that differs copied); one that forgets an owner of
cells judges on facts of another history, which the same test file catches.
"""

from __future__ import annotations

from scenarios import TraceChecker
from scenarios._trace._checks import MonitorState


def shallow_fork(checker: TraceChecker) -> TraceChecker:
    """``checker.fork()``, but with every list inside the ledger's tables shared."""
    forked = checker.fork()
    origin = vars(checker._facts.ledger)
    for name, table in vars(forked._facts.ledger).items():
        if type(table) is dict:
            for key, record in table.items():
                if type(record) is list:
                    table[key] = origin[name][key]
    return forked


def factless_become(
    scratch: TraceChecker, other: TraceChecker, mine: MonitorState, theirs: MonitorState
) -> None:
    """``scratch.become(other, ...)``, but the facts' own cells (bindings, uploads, the
    last time) left as they were."""
    kept = dict(vars(scratch._facts))
    scratch.become(other, mine, theirs)
    vars(scratch._facts).update(kept)
