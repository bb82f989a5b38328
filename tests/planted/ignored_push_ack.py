"""Planted: a PushAck the cloud takes declared ignorable by the checker, as it was before
the checker judged the lifecycle's ``push-acknowledged`` (s31, F3).

A ``push-ack`` received by the cloud now changes a fact: the acknowledgements in doubt
until the cloud goes on, then acknowledged (``_Facts.acks_in_doubt``, ``_Facts.acked``):
a push re-sent after one is a ``timeout-push`` (or ``mismatch-dual-send``) violation.
:func:`push_ack_ignorable` says it changes nothing once the ledger is reliable, as the
table said before; ``tests/scenarios/test_checks_ignored.py`` must tell, by feeding.
"""

from __future__ import annotations

from scenarios._trace._checks import IGNORED_ONCE_RELIABLE, Ignorable, ignorable
from scenarios._trace._reader import TraceRecord

__all__ = ["push_ack_ignorable"]


def push_ack_ignorable(ev: TraceRecord) -> Ignorable | None:
    """:func:`ignorable`, but a received push acknowledgement ignored once reliable."""
    if ev.kind == "recv" and ev.type == "push-ack":
        return IGNORED_ONCE_RELIABLE  # the bug: the cloud took it, a lifecycle fact
    return ignorable(ev)
