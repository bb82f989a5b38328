"""Planted: a report builder whose tap of one message class skips the report's handler.

A run's drivers call :meth:`~scenarios.ReportBuilder.message_taps`' tap of each message
class instead of ``sent``/``received`` (no dispatch on the class per event). This builder
resolves the tap of a received ``upload-ack`` to the ledger's handler alone, as a tap
table built with a class's report handler left out would: the ledger still settles the
upload, but the report never counts it acknowledged. ``tests/actors/test_sink.py`` must
catch it by folding a run both ways.
"""

from __future__ import annotations

from typing import Any

from actors import MessageTaps
from protocol import Address, UploadAck
from scenarios import ReportBuilder
from scenarios._sim._report import _R_NAME

__all__ = ["UntappedReport"]


class UntappedReport(ReportBuilder):
    def message_taps(self) -> tuple[MessageTaps, MessageTaps]:
        sent, received = super().message_taps()
        promise = self._on_recv[UploadAck][0]
        assert promise is not None
        receipts = self._receipts

        def ledger_only(t: float, sender: Address, recipient: Address, message: Any) -> None:
            self._last_t = t
            record = receipts.get((message.receipt_id, message.merchant_id))
            if record is None:
                record = self._new_record(t, sender, recipient, message)
            promise(sender, recipient, record[_R_NAME], t, message)  # the bug: no report's

        received[UploadAck] = ledger_only
        return sent, received
