"""Planted: a checker that ignores an event whatever its time.

:meth:`scenarios.TraceChecker.ignores` says events leave the checker's state as it is
only if each comes at the time of the last event fed: every event sets ``last_t``, the
end a lost delivery is reported at. :func:`timeless_ignores` leaves that test out;
``tests/scenarios/test_checks_ignored.py`` must tell, by feeding.
"""

from __future__ import annotations

from collections.abc import Sequence

from scenarios import TraceChecker
from scenarios._trace._checks import Ignorable
from scenarios._trace._reader import TraceRecord

__all__ = ["timeless_ignores"]


def timeless_ignores(
    checker: TraceChecker, events: Sequence[TraceRecord], rules: Sequence[Ignorable | None]
) -> bool:
    """``checker.ignores(events, rules)`` as if each event came at the last one's time."""
    last_t = checker._facts.last_t
    return checker.ignores([ev._replace(t=last_t) for ev in events], rules)  # the bug
