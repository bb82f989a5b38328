"""Retry settings that never back off are refused, in one line (reviewer B's F4, s31).

``retry.first_delay=1e-320`` passed (a positive number): every re-send fired in the same
virtual instant, all 104 messages of ``faults`` gave up, 0 deliveries, and the check said
"no violations". A ``max_delay`` below ``first_delay`` silently overrode it. Now a delay
under 1 ms, and ``max_delay < first_delay``, are refused: one line, exit 2.
"""

from __future__ import annotations

import pytest

from protocol import LocalProtocolError, RetryPolicy
from protocol._machines._outbox import MIN_RETRY_DELAY
from tests.scenarios.cli_runs import one_line_error


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("retry.first_delay=1e-320", "first_delay: must be at least 0.001"),
        ("retry.first_delay=0.5ms", "first_delay: must be at least 0.001"),
        ("retry.max_delay=0.9ms", "max_delay: must be at least 0.001"),
        ("retry.max_delay=1s", "max_delay: must be at least first_delay (2)"),
    ],
)
def test_a_backoff_that_never_backs_off_is_refused(
    setting: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, line = one_line_error(["run", "faults", "--set", setting], capsys)
    assert code == 2 and says in line and setting in line


def test_the_shortest_delays_allowed_are_kept() -> None:
    policy = RetryPolicy(first_delay=MIN_RETRY_DELAY, max_delay=MIN_RETRY_DELAY)
    assert policy.delay(1) == policy.delay(5) == MIN_RETRY_DELAY
    assert RetryPolicy(first_delay=3.0, max_delay=3.0).delay(2) == 3.0


@pytest.mark.parametrize(("first", "most"), [(1e-320, 60.0), (2.0, 1e-4), (5.0, 4.0)])
def test_the_policy_refuses_them_in_code_too(first: float, most: float) -> None:
    with pytest.raises(LocalProtocolError):
        RetryPolicy(first_delay=first, max_delay=most)
