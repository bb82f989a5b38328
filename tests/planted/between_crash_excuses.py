"""Planted bug for tests/scenarios/test_late_crash.py: the promise ledger's rule before a
crash event said where it fell, under which a crash of the cloud right after it took an
upload excused that upload whether the crash killed the step that took it or fell after
the step was committed (a cloud silent to an upload, crashed between steps before its next
one, was all clear: 1 upload never answered, 0 lost)."""

from __future__ import annotations

from scenarios._sim._promises import PromiseLedger

__all__ = ["BetweenCrashExcuses"]


class BetweenCrashExcuses(PromiseLedger):
    def down(self, actor: str, point: str = "") -> None:
        super().down(actor)  # BUG: where the crash fell is not read
