"""An actor: one trio task driving one sans-I/O machine over one endpoint.

The actor owns a mailbox (its endpoint) and waits only on it; the timers its machine arms
live in the world's :class:`TimerService`, which calls back when one is due. The actor
drains every message already in the mailbox before it yields again, so a busy actor pays
one checkpoint per batch, not per message, and no cancel scope per wait. An endpoint that
can hand over each message as it arrives (a :class:`~actors.DirectEndpoint`: a TCP client
connection) skips the mailbox: the machine steps in the task that read the message.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from typing import cast

import trio

from protocol import Address, CloudStore, Effects, Machine, Message

from ._activity import Activity
from ._effects import EffectsInterpreter
from ._errors import FaultPlanError, LivelockError
from ._sink import taps_of
from ._step import START, CrashPoint, CrashPointStore, KilledInsideStep, durable_state, run_step
from ._timers import TimerService, in_heap
from ._trace import CRASH_BETWEEN_STEPS, CRASH_INSIDE_STEP, EventKind, Observer, TraceEvent
from ._transport import DirectEndpoint, Endpoint, Envelope

__all__ = ["Actor"]

_BATCH = 512  # messages handled between two checkpoints, for fairness between actors
MAX_FIRINGS_AT_ONE_INSTANT = 100_000  # a reference party fires a handful at one instant


class Actor:
    """Drives ``machine`` with the messages of ``endpoint`` and its own timers."""

    def __init__(
        self,
        machine: Machine,
        endpoint: Endpoint,
        *,
        observer: Observer | None = None,
        activity: Activity | None = None,
        timers: TimerService | None = None,
    ) -> None:
        self.machine = machine
        self.endpoint = endpoint
        self.address = endpoint.address
        taps = taps_of(observer)
        self._observe = taps.event  # the rare events: drops, crashes, restarts
        self._received = taps.received
        self._fired = taps.fired
        # The world's count of work left, if it waits on it (an inline world does not:
        # it stops when no message is queued and no timer is pending).
        self._activity = activity
        self._owns_timers = timers is None
        self._timers = timers if timers is not None else TimerService()
        # Timers armed for "now", fired inline after what is queued, oldest first:
        self.due_now: deque[tuple[Hashable, int]] = deque()
        effects = EffectsInterpreter(
            self.address,
            endpoint.send,
            self._timers,
            self,
            self.due_now.append,
            observer=observer,
            activity=self._activity,
        )
        self._armed = effects.armed  # key -> its current entry in the timer service
        self._take = effects.take
        self._apply = effects.apply  # bound once: it runs for every step
        self._primed = False
        self.down = False  # crashed and not yet restarted
        self._store = durable_state(machine)  # each step one transaction of it
        self._crash_point: CrashPoint | None = None  # a kill -9 armed inside a step

    @property
    def pending_timers(self) -> int:
        return len(self._armed)

    @property
    def keeps_store(self) -> bool:
        """Does the machine keep durable state, its steps made atomic by this actor?"""
        return self._store is not None

    def prime(self, now: float) -> None:
        """Carry out the machine's start effects (before any actor of the world runs)."""
        if not self._primed:
            self._primed = True
            self._start(now)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled; closes the endpoint on the way out.

        An actor made without a :class:`TimerService` runs its own timer task.
        """
        try:
            self.prime(trio.current_time())
            task_status.started()
            del task_status  # an idle actor should not keep its starter's status alive
            if self._owns_timers:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._timers.run)
                    await self._loop()
            else:
                await self._loop()
        finally:
            self.endpoint.close()

    async def _loop(self) -> None:
        endpoint = self.endpoint
        if isinstance(endpoint, DirectEndpoint):  # no task of its own needed: one hop less
            endpoint.deliver_directly(self._deliver_now)
            await trio.sleep_forever()
        receive = endpoint.receive
        receive_nowait = endpoint.receive_nowait
        current_time = trio.current_time
        dispatch = self.deliver
        while True:
            envelope = await receive()
            now = current_time()
            dispatch(envelope, now)
            for _ in range(_BATCH):
                try:
                    envelope = receive_nowait()
                except trio.WouldBlock:
                    break
                dispatch(envelope, now)
            self.fire_due_now(now)

    # The methods below are for the drivers in this package: the actor's own task, an
    # inline World, and the TimerService.

    def holds_timer(self, key: Hashable, seq: int) -> bool:
        """Is entry ``seq`` still the armed one for ``key`` (not moved or cancelled)?"""
        return self._armed.get(key) == seq

    def timer_due(self, key: Hashable, seq: int, now: float) -> None:
        """Called by the timer service: entry ``seq`` of ``key`` is due."""
        armed = self._armed
        if armed.get(key) == seq:  # EffectsInterpreter.take, written out: once per timer
            del armed[key]
            self._fire(key, now)
            if self.due_now:
                self.fire_due_now(now)

    def fire_due_now(self, now: float) -> None:
        """Fire the timers armed for a time already reached (after a batch of messages).
        LivelockError after :data:`MAX_FIRINGS_AT_ONE_INSTANT` of them: a machine that
        re-arms a timer for the instant it fires would hold virtual time still for ever."""
        due = self.due_now
        take = self._take
        fired = 0
        while due:
            key, seq = due.popleft()
            if take(key, seq):
                self._fire(key, now)
                fired += 1
                if fired > MAX_FIRINGS_AT_ONE_INSTANT:
                    raise LivelockError(
                        f"{self.address} fired {fired} timers at t={now:.3f} without time "
                        f"going on (the last: {key!r}): a timer re-armed for the instant it "
                        "fires never lets the run end"
                    )

    def deliver(self, envelope: Envelope, now: float) -> None:
        """Hand one message to the machine and carry out what it asks for."""
        self.receive(envelope.sender, envelope.message, now)

    def receive(self, sender: Address, message: Message, now: float) -> None:
        """:meth:`deliver` without an envelope (an inline World's mailboxes hold pairs)."""
        if self.down:  # a crashed party loses what reaches it
            observe = self._observe
            if observe is not None:
                observe(TraceEvent(now, _DROP, sender, self.address, message, None, "down"))
        else:
            received = self._received
            if received is not None:
                received(now, sender, self.address, message)
            if self._crash_point is None:  # the common case, without _step's wrapper
                store = self._store
                if store is None:  # no transaction to open: run_step would only call it
                    effects = self.machine.handle(message, sender, now)
                else:
                    effects = run_step(store, self.machine.handle, message, sender, now)
                self._apply(effects, now)
            else:
                stepped = self._step(message, now, self.machine.handle, message, sender, now)
                if stepped is not None:
                    self._apply(stepped, now)
        activity = self._activity
        if activity is not None:
            activity.done()

    def _deliver_now(self, envelope: Envelope) -> None:
        """A message handed over by a :class:`~actors.DirectEndpoint` as it arrives."""
        now = trio.current_time()
        self.deliver(envelope, now)
        if self.due_now:
            self.fire_due_now(now)

    def crash(self, now: float, point: str = CRASH_BETWEEN_STEPS) -> None:
        """The party crashes: its timers and the messages waiting in its mailbox are lost,
        and so is every message reaching it until :meth:`restart`. ``point``: between
        steps (every step it took committed) or :data:`CRASH_INSIDE_STEP`."""
        if self.down:
            return
        self.down = True
        observe = self._observe
        if observe is not None:
            observe(TraceEvent(now, _CRASH, self.address, self.address, None, None, point))
        activity = self._activity
        armed = self._armed
        if activity is not None:
            activity.done(len(armed))
        in_the_heap = sum(1 for seq in armed.values() if in_heap(seq))
        armed.clear()
        if in_the_heap:  # their entries stay behind in the world's heap, stale
            self._timers.dropped(in_the_heap)
        self.due_now.clear()
        while True:
            try:
                envelope = self.endpoint.receive_nowait()
            except (trio.WouldBlock, trio.ClosedResourceError, trio.EndOfChannel):
                break
            if observe is not None:
                observe(
                    TraceEvent(
                        now, _DROP, envelope.sender, self.address, envelope.message, None, "down"
                    )
                )
            if activity is not None:
                activity.done()

    def restart(self, machine: Machine, now: float) -> None:
        """The party comes back as ``machine`` (rebuilt from what it keeps durably)."""
        if not self.down:
            return
        self.down = False
        self.machine = machine
        self._store = durable_state(machine)
        if self._crash_point is not None:  # armed while down: the new machine's store
            self._wrap_store(self._crash_point)
        observe = self._observe
        if observe is not None:
            observe(TraceEvent(now, _RESTART, self.address, self.address))
        self._start(now)

    def arm_crash_inside_step(
        self, after_writes: int, during: str | None, crashed: Callable[[float], None]
    ) -> None:
        """Crash right after store write ``after_writes`` of the next step of kind
        ``during`` (any kind if None): a kill -9 inside the step, whose transaction is then
        never committed; ``crashed(now)`` is called once it fell. Only a party that keeps a
        store can be crashed so; the point stays armed until a matching step comes."""
        if self._store is None:
            raise FaultPlanError(f"{self.address} keeps no store: no step of it writes")
        point = CrashPoint(crashed)
        point.arm(after_writes, during)
        self._wrap_store(point)
        self._crash_point = point

    def _wrap_store(self, point: CrashPoint) -> None:
        """The machine's store told of every write to ``point``; armed while the party is
        down, the store of the machine it restarts as (a ``start`` step's writes, the
        steps after: reviewer Q's F3, a point armed while down never fired). A point
        armed over another replaces it (the other, never fallen, is told as idle)."""
        store = self._store
        if isinstance(store, CrashPointStore):
            store = store.inner
        wrapped = CrashPointStore(cast(CloudStore, store), point)
        setattr(self.machine, "store", wrapped)  # noqa: B010 -- Machine declares no store
        self._store = wrapped

    def _start(self, now: float) -> None:
        effects = self._step(START, now, self.machine.start, now)
        if effects is not None:
            self._apply(effects, now)
            self.fire_due_now(now)

    def _step(
        self, what: object, now: float, call: Callable[..., Effects], *args: object
    ) -> Effects | None:
        """One step of the machine on ``what``, as one transaction of its store; None if
        an armed crash point killed the party inside it (it is down then)."""
        point = self._crash_point
        if point is None:
            return run_step(self._store, call, *args)
        point.enter(what)
        try:
            return run_step(self._store, call, *args)
        except KilledInsideStep:
            self._crash_point = None  # fired: the rebuilt machine has a store of its own
            self.crash(now, CRASH_INSIDE_STEP)
            point.crashed(now)
            return None

    def _fire(self, key: Hashable, now: float) -> None:
        fired = self._fired
        if fired is not None:
            fired(now, self.address, key)
        if self._crash_point is None:
            store = self._store
            if store is None:
                effects = self.machine.timer_fired(key, now)
            else:
                effects = run_step(store, self.machine.timer_fired, key, now)
            self._apply(effects, now)
        else:
            stepped = self._step(key, now, self.machine.timer_fired, key, now)
            if stepped is not None:
                self._apply(stepped, now)
        activity = self._activity
        if activity is not None:
            activity.done()


_DROP = EventKind.DROP
_CRASH = EventKind.CRASH
_RESTART = EventKind.RESTART
