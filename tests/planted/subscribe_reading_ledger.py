"""Planted: a promise ledger with a handler for a message the checker's table calls
ignorable: a subscription a phone sends (when it first asked, as a new promise on
subscriptions might keep), with the table left as it is.

:func:`scenarios._trace._checks.ignorable` says a sent ``subscribe`` changes nothing:
the ledger has no handler for it. :class:`SubscribeReadingLedger` adds one;
``tests/scenarios/test_checks_ignored.py`` must tell from the ledger's dispatch tables.
"""

from __future__ import annotations

from typing import Any

from scenarios._sim._promises import PromiseLedger, Record

__all__ = ["SubscribeReadingLedger"]


class SubscribeReadingLedger(PromiseLedger):
    def __init__(self, push_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(push_timeout, **kwargs)
        self.subscribe_sent: dict[str, float] = {}
        self._on_send["subscribe"] = self._send_subscribe  # the bug: the table says ignored

    def _send_subscribe(
        self, frm: str, to: str, record: Record | None, t: float, body: Any
    ) -> None:
        self.subscribe_sent.setdefault(frm, t)
