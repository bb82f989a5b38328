"""Planted bug for ``assocsim check`` on a cut trace (tests/scenarios/test_trace_gap.py):
a checker that keeps quiet about what the events before the gap already show, so a
broken promise in a cut trace is reported only as "incomplete", like a clean one."""

from __future__ import annotations

import attrs

from scenarios._trace._checks import CheckResult, TraceChecker
from scenarios._trace._reader import TraceIncomplete

_real = TraceChecker.result_before_gap


def forget_before_gap(self: TraceChecker, gap: TraceIncomplete) -> CheckResult:
    """``TraceChecker.result_before_gap`` that drops every violation it found."""
    return attrs.evolve(_real(self, gap), violations=())
