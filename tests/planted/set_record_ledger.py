"""Planted: a promise ledger that keeps a set per key, a kind of record its fork does not copy.

:func:`~scenarios._sim._promises.copied_facts` copies each fact container and each list a
table keeps per key; every other value in a table must be immutable. A future table of sets
(or dicts) per key would be shared between a checker the explorer keeps for a state and the
fork it goes on with, and an event fed to the fork would change the kept one (the explorer
would then merge states on facts neither path had). :class:`SetRecordLedger` keeps the POS
each receipt's upload came from in such a table. ``tests/scenarios/test_explore_monitor.py``
must find the set its fork shares, whether or not a later event happens to change it.
"""

from __future__ import annotations

from typing import Any

from scenarios._sim._promises import RECEIPT_NAME, PromiseLedger, Record

__all__ = ["SetRecordLedger"]


class SetRecordLedger(PromiseLedger):
    def __init__(self, push_timeout: float | None = None, **kwargs: Any) -> None:
        self.uploaded_by: dict[str | None, set[str]] = {}
        super().__init__(push_timeout, **kwargs)

    def _recv_upload(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        super()._recv_upload(frm, to, record, t, body)
        receipt = None if record is None else record[RECEIPT_NAME]
        self.uploaded_by.setdefault(receipt, set()).add(frm)  # the bug: a set per key
