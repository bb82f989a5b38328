"""A planted bug: ``RunOutcome.assert_ok`` as it was, blind to what the run judged.

It raised only on a violation, so a run that judged nothing (no purchase: every invariant
checked 0 times) passed, and a property drawing such worlds said all clear whatever the
cloud did. ``tests/scenarios/test_testing_outcome.py`` must catch it.
"""

from __future__ import annotations

from scenarios.testing import RunOutcome

__all__ = ["lenient_assert_ok"]


def lenient_assert_ok(outcome: RunOutcome) -> None:
    """Raise on a violation only (the bug: a run that checked nothing passes)."""
    if outcome.violations:
        raise AssertionError(outcome.describe())
