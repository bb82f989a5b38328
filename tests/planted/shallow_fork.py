"""Planted: a checker fork that copies the promise ledger's tables one level only.

The explorer forks ``assocsim check``'s ``TraceChecker`` for each new state of the
product (``docs/explore.md``, "Speed"). A record a table keeps per key as a list (the
details of a sender's ``gave-up`` notes, a receipt's facts) must be copied too: shared,
an event fed to the fork changes the checker it was forked from, whose state is already
numbered, and two paths would merge on a state neither had.
``tests/scenarios/test_explore_monitor.py`` shows the real fork keeps its origin and this
one does not.
"""

from __future__ import annotations

from scenarios import TraceChecker


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
