"""Planted: a promise ledger that settles a receipt's upload at every POS once one POS
is answered.

Step 501: each POS that uploads a purchase is owed an ``upload-ack`` or a refusal at that
POS (its outbox re-sends until one comes). A cloud that answers the first POS and ignores
a second POS's upload of the same receipt breaks it; this ledger, on an answer to one POS,
counts every POS's upload of the receipt as settled, so it cannot see that cloud.
``tests/scenarios/test_promises_spec.py`` must tell it apart.
"""

from __future__ import annotations

from typing import Any

from scenarios._sim._promises import RECEIPT_NAME, PromiseLedger, Record

__all__ = ["ReceiptSettledLedger"]


class ReceiptSettledLedger(PromiseLedger):
    def _recv_settles(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        super()._recv_settles(frm, to, record, t, body)
        if record is not None and (record[RECEIPT_NAME], to) in self._settled:
            receipt = record[RECEIPT_NAME]
            self._settled.update(key for key in self._uploads if key[0] == receipt)  # the bug
