"""Planted: a promise ledger's fork that copies its table of receipt records one level
only, so the fork and its origin share every record.

Each receipt's facts, at every phone it reached, are one list in
:class:`~scenarios._sim._promises.PromiseLedger`'s table of records; its
:meth:`~scenarios._sim._promises.PromiseLedger.fork` copies each. Shared, an event fed to
the fork (a dual-send to a second phone, a group inserted) rewrites the origin's facts,
whose state the explorer has numbered. ``tests/scenarios/test_promises_spec.py``
must tell.
"""

from __future__ import annotations

from scenarios._sim._promises import PromiseLedger

__all__ = ["shared_record_fork"]


def shared_record_fork(ledger: PromiseLedger) -> PromiseLedger:
    """``ledger.fork()``, but with the records themselves shared."""
    forked = ledger.fork()
    forked._receipts = dict(ledger._receipts)  # the bug: a copy of the table alone
    return forked
