"""Planted bug for a check that judged nothing (tests/scenarios/test_nothing_judged.py): the
exit status of a check that says all clear whenever no violation was found, even when no
invariant had anything to check (a run of no purchase), as ``assocsim check`` did."""

from __future__ import annotations

from scenarios._trace._checks import CheckResult


def all_clear_unless_broken(result: CheckResult) -> int:
    """``check_status`` blind to whether anything was judged."""
    return 0 if result.ok else 1
