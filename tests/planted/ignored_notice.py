"""Planted: a received receipt notice declared ignorable by the checker.

``assocsim explore`` maps a checker state to itself, without feeding them, on events
that :func:`scenarios._trace._checks.ignorable` says change no fact but the time and the
receipts seen. A received ``receipt-notice`` does change one: the phones that may see a
receipt's products (``privacy``, ``_Facts.noticed_by``). :func:`notice_ignorable` says it
changes nothing; ``tests/scenarios/test_checks_ignored.py`` must tell, by feeding.
"""

from __future__ import annotations

from scenarios._trace._checks import IGNORED, Ignorable, ignorable
from scenarios._trace._reader import TraceRecord

__all__ = ["notice_ignorable"]


def notice_ignorable(ev: TraceRecord) -> Ignorable | None:
    """:func:`ignorable`, but a received receipt notice ignored too."""
    if ev.kind == "recv" and ev.type == "receipt-notice":
        return IGNORED  # the bug: it records the noticing phone
    return ignorable(ev)
