"""Planted bug for ``refusal-justified``'s unjudged refusals
(tests/scenarios/test_refusal_justified.py): the invariant passes over the refusals it
cannot judge after a cloud on a forgetting store restarted, and says nothing of them, so a
check reads "ok" with no word that some refusals were never judged."""

from __future__ import annotations


def say_nothing(self: object) -> tuple[str, ...]:
    """``RefusalJustified.left_out`` that leaves nothing out."""
    return ()
