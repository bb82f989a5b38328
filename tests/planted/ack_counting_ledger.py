"""Planted: a promise ledger that counts acknowledgements, an event the checker's table
calls ignorable once the ledger is reliable.

:func:`scenarios._trace._checks.ignorable` is a second statement of what the handlers
read: ``assocsim explore`` maps a checker state to itself on an acknowledgement once the
ledger is reliable, without feeding it. A new promise that reads acknowledgements (here a
count of them, as a report of how many a phone sent might keep) makes that table wrong
unless it changes too. :class:`AckCountingLedger` is that ledger with the table left as
it is; ``tests/scenarios/test_checks_ignored.py`` must tell, by feeding.
"""

from __future__ import annotations

from typing import Any

from scenarios._sim._promises import PromiseLedger, Record

__all__ = ["AckCountingLedger"]


class AckCountingLedger(PromiseLedger):
    def __init__(self, push_timeout: float | None = None, **kwargs: Any) -> None:
        self.acks = 0
        super().__init__(push_timeout, **kwargs)

    def _ack(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        self.reliable = True  # as PromiseLedger._ack (a fork binds this to a plain ledger)
        self.acks += 1  # the bug: a fact the table says an acknowledgement never changes
