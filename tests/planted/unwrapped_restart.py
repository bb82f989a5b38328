"""Planted bug for tests/scenarios/test_crash_armed_while_down.py (reviewer Q's F3):
``Actor.restart`` as it was, giving the restarted party its new machine's store unwrapped
while a crash point stayed armed: no write reached the point again, so a crash inside a
step armed while the cloud was down never fell, and ``during = "start"`` never could."""

from __future__ import annotations

from actors import Actor, EventKind, TraceEvent
from actors._step import durable_state
from protocol import Machine


def unwrapped_restart(self: Actor, machine: Machine, now: float) -> None:
    if not self.down:
        return
    self.down = False
    self.machine = machine
    self._store = durable_state(machine)  # BUG: the armed point's wrapper left behind
    observe = self._observe
    if observe is not None:
        observe(TraceEvent(now, EventKind.RESTART, self.address, self.address))
    self._start(now)
