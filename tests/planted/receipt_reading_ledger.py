"""A promise ledger with a planted bug: a handler it declares receipt-blind reads the receipt.

:class:`~scenarios.ReportBuilder` names no receipt for the messages whose handlers
:meth:`~scenarios._sim._promises.PromiseLedger.reads_receipt` says do not read it (the
acknowledgements, the subscriptions): it hands them None. :class:`ReceiptReadingLedger`
remembers the receipt of each acknowledgement, as a future handler might, without
declaring it: fed by the report, it learns nothing. ``tests/scenarios/test_report_fold.py``
must tell.
"""

from __future__ import annotations

from typing import Any

from scenarios._sim._promises import RECEIPT_NAME, PromiseLedger, Record

__all__ = ["ReceiptReadingLedger"]


class ReceiptReadingLedger(PromiseLedger):
    def __init__(self, push_timeout: float | None = None, **kwargs: Any) -> None:
        self.acknowledged: set[str | None] = set()
        super().__init__(push_timeout, **kwargs)

    def _ack(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        super()._ack(frm, to, record, t, body)
        # the bug: declared blind (_RECEIPT_BLIND), reads the receipt (its record's name)
        self.acknowledged.add(None if record is None else record[RECEIPT_NAME])
