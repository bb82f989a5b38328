"""Planted: acknowledgements retired by their type, whatever the handler does with them.

:class:`~scenarios.ReportBuilder` stops calling a ledger's handler once the ledger is
reliable if :meth:`~scenarios._sim._promises.PromiseLedger.idle_once_reliable` says it
then does nothing: true of the ledger's own ``_ack`` (it only sets ``reliable``), judged
by the function. :class:`TypeRetiredAckLedger` counts every acknowledgement (as
``ack_counting_ledger.py``) but says its handler is idle by the message type alone, the
shortcut's bug: the report would fold a ledger that no longer sees what it reads.
``tests/scenarios/test_report_fold.py`` must tell.
"""

from __future__ import annotations

from tests.planted.ack_counting_ledger import AckCountingLedger

__all__ = ["TypeRetiredAckLedger"]

_ACKS = frozenset({"push-ack", "notice-ack", "promotion-ack"})


class TypeRetiredAckLedger(AckCountingLedger):
    def idle_once_reliable(self, kind: str, typ: str) -> bool:
        return typ in _ACKS  # the bug: by the type, not by what the handler does
