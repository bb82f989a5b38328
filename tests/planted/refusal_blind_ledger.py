"""Planted: a promise ledger that takes no refusal a phone receives as the reply to its
request.

Step 503/508: every request a phone sends gets a reply there, a response or a refusal
(``error-reply`` naming the request). This ledger reads only the responses, so a request
the cloud refused is judged lost: a false violation on every run where the cloud refuses
a request (an unsubscribed or mismatched phone). Generated runs seldom draw a refusal of
a request that was sent; ``tests/scenarios/test_promises_spec.py`` must tell it apart on
its hand-written run of replies (``promise_runs.REPLIES``).
"""

from __future__ import annotations

from typing import Any

from scenarios._sim._promises import PromiseLedger, Record

__all__ = ["RefusalBlindLedger"]


class RefusalBlindLedger(PromiseLedger):
    def _recv_error(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        if to.startswith("phone:"):
            return  # the bug: a refused request stays unanswered
        super()._recv_error(frm, to, record, t, body)
