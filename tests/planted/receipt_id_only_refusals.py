"""Planted bug for tests/scenarios/test_field_inputs_asks.py: a phone process taking a
refusal for an answer to every ask of that receipt id, whatever the merchant (receipt
ids are per merchant), as it did while refusals named no merchant: asked about
shop-01/R1 and shop-02/R1, one refusal of shop-02's ends the process with shop-01's
ask unanswered, and counts it refused."""

from __future__ import annotations

from actors import EventKind, TraceEvent
from protocol import ErrorReply
from scenarios._field._clients import _PhoneProcess


class ReceiptIdOnlyPhone(_PhoneProcess):
    def _keep(self, event: TraceEvent) -> None:
        message = event.message
        if event.kind is EventKind.RECEIVE and isinstance(message, ErrorReply):
            if message.receipt_id:
                refused = {r for r in self.asks if r.receipt_id == message.receipt_id}  # the bug
                self.answered.update(refused)
                self.refused_asks.update(refused)
            return
        super()._keep(event)
