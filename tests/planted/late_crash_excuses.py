"""Planted bug for tests/scenarios/test_late_crash.py: the promise ledger's rule before
reviewer Q's F1, under which any crash or restart of the cloud, however long after, excused
every upload and request that had reached it unanswered (a cloud deaf to uploads, crashed
at 9 h after every POS gave up, was all clear: 30 uploads never answered, 0 lost)."""

from __future__ import annotations

from protocol import CLOUD
from scenarios._sim._promises import PromiseLedger

__all__ = ["LateCrashExcuses"]


class LateCrashExcuses(PromiseLedger):
    def down(self, actor: str, point: str = "") -> None:
        if actor == CLOUD:  # BUG: all of them, not those since the cloud last went on
            self._unanswered_uploads.clear()
            self._unanswered_requests.clear()
