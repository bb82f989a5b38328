"""Planted: a report builder naming a push timer's receipt by the wrong slot of its record.

:meth:`~scenarios.ReportBuilder.fired` names the receipt of the cloud's ``PushDue`` timer
by the receipt's record (found by the timer's receipt id, no string built per timer).
This one names it by its record's named phone instead of its name, so the ledger's
``push_due`` marks a receipt that does not exist and the receipt's own timer is never
seen: the cloud's decision at the deadline (step 603) is lost to the report.
``tests/actors/test_sink.py`` must catch it.
"""

from __future__ import annotations

from protocol import CLOUD, Address, PushDue
from scenarios import ReportBuilder
from scenarios._sim._report import _R_MERCHANT, _R_NAMED

__all__ = ["MisnamedPushDue"]


class MisnamedPushDue(ReportBuilder):
    def fired(self, t: float, actor: Address, key: object) -> None:
        if actor == CLOUD and type(key) is PushDue:
            record = self._by_id.get(key.receipt_id)  # found as ReportBuilder.fired does
            if record is None or record[_R_MERCHANT] != key.merchant_id:
                record = self._by_key.get((key.receipt_id, key.merchant_id))
            if record is not None:
                self._last_t = t
                self._ledger.push_due(record[_R_NAMED])  # the bug: the phone, not the name
                return
        super().fired(t, actor, key)
