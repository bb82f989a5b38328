"""An actor: one trio task driving one sans-I/O machine over one endpoint.

The actor owns a mailbox (its endpoint) and one heap of timer deadlines; it waits for the
next message *or* the earliest deadline, whichever comes first, and hands either to the
machine. It drains every message already in the mailbox before it yields again, so a busy
actor pays one checkpoint per batch, not per message.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable

import trio

from protocol import Effects, Machine

from ._activity import Activity
from ._errors import TransportError
from ._trace import EventKind, Observer, TraceEvent
from ._transport import Endpoint, Envelope

__all__ = ["Actor"]

_BATCH = 512  # messages handled between two checkpoints, for fairness between actors


class Actor:
    """Drives ``machine`` with the messages of ``endpoint`` and its own timers."""

    def __init__(
        self,
        machine: Machine,
        endpoint: Endpoint,
        *,
        observer: Observer | None = None,
        activity: Activity | None = None,
    ) -> None:
        self.machine = machine
        self.endpoint = endpoint
        self.address = endpoint.address
        self._observe = observer
        self._activity = activity
        # One heap of deadlines; ``_armed`` says which heap entry of a key is current, so
        # moved and cancelled timers are skipped lazily instead of searched for.
        self._timers: list[tuple[float, int, Hashable]] = []
        self._armed: dict[Hashable, int] = {}
        self._timer_seq = 0

    @property
    def pending_timers(self) -> int:
        return len(self._armed)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled; closes the endpoint on the way out."""
        try:
            self._apply(self.machine.start(trio.current_time()), trio.current_time())
            task_status.started()
            await self._loop()
        finally:
            self.endpoint.close()

    async def _loop(self) -> None:
        receive = self.endpoint.receive
        receive_nowait = self.endpoint.receive_nowait
        timers = self._timers
        armed = self._armed
        while True:
            now = trio.current_time()
            while timers and (timers[0][0] <= now or armed.get(timers[0][2]) != timers[0][1]):
                _, seq, key = heapq.heappop(timers)
                if armed.get(key) == seq:
                    del armed[key]
                    self._fire(key, now)
            if timers:
                with trio.move_on_at(timers[0][0]):
                    envelope = await receive()
                    self._dispatch(envelope, trio.current_time())
            else:
                envelope = await receive()
                self._dispatch(envelope, trio.current_time())
            now = trio.current_time()
            for _ in range(_BATCH):
                try:
                    envelope = receive_nowait()
                except trio.WouldBlock:
                    break
                self._dispatch(envelope, now)

    def _dispatch(self, envelope: Envelope, now: float) -> None:
        if self._observe is not None:
            self._observe(
                TraceEvent(now, EventKind.RECEIVE, envelope.sender, self.address, envelope.message)
            )
        self._apply(self.machine.handle(envelope.message, envelope.sender, now), now)
        if self._activity is not None:
            self._activity.done()

    def _fire(self, key: Hashable, now: float) -> None:
        if self._observe is not None:
            self._observe(
                TraceEvent(now, EventKind.TIMER, self.address, self.address, detail=repr(key))
            )
        self._apply(self.machine.timer_fired(key, now), now)
        if self._activity is not None:
            self._activity.done()

    def _apply(self, effects: Effects, now: float) -> None:
        observe = self._observe
        activity = self._activity
        armed = self._armed
        for key in effects.cancels:
            if armed.pop(key, None) is not None and activity is not None:
                activity.done()
        for timer in effects.timers:
            at = timer.at if timer.at > now else now
            seq = self._timer_seq
            self._timer_seq = seq + 1
            heapq.heappush(self._timers, (at, seq, timer.key))
            if armed.get(timer.key) is None and activity is not None:
                activity.add()
            armed[timer.key] = seq
        for note in effects.notes:
            if observe is not None:
                observe(TraceEvent(now, EventKind.NOTE, self.address, self.address, note=note))
        send = self.endpoint.send
        for out in effects.sends:
            if activity is not None:
                activity.add()
            try:
                send(out.to, out.message)
            except TransportError as exc:
                if activity is not None:
                    activity.done()
                if observe is not None:
                    failed = EventKind.SEND_FAILED
                    observe(
                        TraceEvent(now, failed, self.address, out.to, out.message, None, str(exc))
                    )
                continue
            if observe is not None:
                observe(TraceEvent(now, EventKind.SEND, self.address, out.to, out.message))
