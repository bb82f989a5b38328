"""Planted: a promise ledger that lets any ``gave-up`` note excuse its sender's message.

A POS (or phone) gives up re-sending after its ``max_attempts``; that excuses only what
the network or a crash could have lost. This ledger forgets which uploads and requests
reached the cloud and got no answer from it before it judges, so a cloud that receives
every upload and never answers one (the POSes re-send, give up) is judged all clear: the
false all-clear of ``assocsim run quickstart --cloud deaf --check`` before the fix.
``tests/scenarios/test_promises_spec.py`` must tell it apart on ``promise_runs.GAVE_UP``,
``tests/scenarios/test_unanswered_upload.py`` on a run of the deaf cloud.
"""

from __future__ import annotations

from scenarios._sim._promises import Judgement, PromiseLedger

__all__ = ["GiveUpExcusesAll"]


class GiveUpExcusesAll(PromiseLedger):
    def judge(self, end: float) -> Judgement:
        self._unanswered_uploads.clear()  # the bug: every give-up excuses its message
        self._unanswered_requests.clear()
        return super().judge(end)
