"""Planted: the old :meth:`~protocol.RetryPolicy.delay`, which jumped to ``max_delay`` at
the 65th send whatever the policy (a guard against ``factor ** attempt`` overflowing): a
constant backoff (``factor=1``) or a slowly growing one went from ``first_delay`` (or a
little more) straight to ``max_delay``. Found by the mutation audit of the outbox (its
guard could be dropped or moved unseen); the code now catches the overflow instead.

``tests/protocol/test_machines_mutants.py`` catches this policy.
"""

from __future__ import annotations

import attrs

from protocol import RetryPolicy

__all__ = ["CappedAttemptPolicy"]


@attrs.frozen
class CappedAttemptPolicy(RetryPolicy):
    """The delay before the fix (the bug: ``max_delay`` from attempt 65 on)."""

    def delay(self, attempt: int) -> float:
        if attempt > 64:  # the bug: not only when factor ** attempt would overflow
            return self.max_delay
        return min(self.first_delay * self.factor ** (attempt - 1), self.max_delay)
