"""Planted: a checker fork that keeps where its origin's cells are read.

``TraceChecker`` finds once where its cells lie (its owners' attribute dicts: the facts,
the ledger, each invariant) and keeps that layout; a fork has objects of its own, so it
must find its own (``TraceChecker.fork`` clears it). :func:`origin_laid_fork` keeps the
origin's: the fork's state is then read from the checker it was forked from, which the
events fed to the fork never change, and the explorer would number every state after a
fork as the state before it. ``tests/scenarios/test_explore_monitor.py`` catches it.
"""

from __future__ import annotations

from scenarios import TraceChecker


def origin_laid_fork(checker: TraceChecker) -> TraceChecker:
    """``checker.fork()``, but laid out as ``checker`` is."""
    forked = checker.fork()
    forked._layout = checker._laid_out()  # the bug: the origin's attribute dicts
    return forked
