"""Planted: a ``refusal-justified`` that trusts a refusal of the message's own validity.

The cloud refuses a message as ``invalid-message`` or ``unexpected-message`` only where it
could not accept it; a message it received (typed, validated) of a type it handles never
is. This invariant judges the refusals that depend on the store alone, so a cloud refusing
every valid upload as invalid (``tests/planted/refusing_cloud.py``) is all clear again:
the false all-clear before the invariant. ``tests/scenarios/test_refusal_justified.py``
must catch it.
"""

from __future__ import annotations

from scenarios._trace._checks import RefusalJustified
from scenarios._trace._reader import TraceRecord

__all__ = ["TrustedRefusals"]


class TrustedRefusals(RefusalJustified):
    def _judge(self, ev: TraceRecord, code: object) -> None:
        if code in ("invalid-message", "unexpected-message"):
            return  # the bug: the cloud's word on a message's validity taken
        super()._judge(ev, code)
