"""A world: one cloud, N shops' checkouts and M phones, wired over one transport."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Literal, NamedTuple

import trio

from protocol import Address, Machine

from ._activity import Activity
from ._actor import Actor
from ._collector import rare_full_collections
from ._errors import FaultPlanError, TransportError
from ._fault_plan import no_actor_matches
from ._faults import Crash, matches
from ._inline import InlineTransport
from ._memory import MemoryTransport
from ._simnet import SimNetwork
from ._timers import TimerService
from ._trace import Observer
from ._transport import Transport

if TYPE_CHECKING:  # only annotations: trio.testing imports pytest (0.1 s at each start)
    import trio.testing

__all__ = ["World"]


Scheduling = Literal["tasks", "inline"]


class World:
    """Parties by address; :meth:`run` drives them until no work is left anywhere.

    "No work left" means no message in flight and no timer pending in any actor, so a
    world whose purchases are all answered or pushed stops by itself, in virtual time.

    ``scheduling="tasks"`` (the default) runs one trio task per actor over ``transport``
    (trio memory channels unless given), as a distributed deployment would.
    ``scheduling="inline"`` drives every actor from the world's one task over an
    :class:`InlineTransport`: the same machines and actor code, one trio wake-up per
    virtual instant; the fast choice for large simulations.

    ``clock``: the MockClock of a trio run in which this inline world is the only thing
    waiting on virtual time (as in ``scenarios.run_scenario``). The world then moves that
    clock to each next deadline itself, instead of sleeping until trio's autojump does:
    the same instants in the same order, without a scheduler round trip per instant.
    """

    def __init__(
        self,
        transport: Transport | None = None,
        *,
        observer: Observer | None = None,
        scheduling: Scheduling = "tasks",
        clock: trio.testing.MockClock | None = None,
    ):
        if scheduling == "inline":
            if transport is not None and not isinstance(transport, InlineTransport):
                raise TransportError("inline scheduling runs over an InlineTransport only")
            transport = transport if transport is not None else InlineTransport()
        elif scheduling != "tasks":
            raise TransportError(f"unknown scheduling {scheduling!r}: 'tasks' or 'inline'")
        self.transport: Transport = transport if transport is not None else MemoryTransport()
        self.scheduling: Scheduling = scheduling
        self._inline = scheduling == "inline" and isinstance(self.transport, InlineTransport)
        self.clock = clock
        self.observer = observer
        # A tasks world's outstanding work, which it waits on. An inline world stops on an
        # empty queue and timer heap instead: its actors count nothing, so there the
        # count (its network's and crash schedule's parts only) means nothing.
        self.activity = Activity()
        self.timers = TimerService()
        self.actors: dict[Address, Actor] = {}
        self._crashes: list[tuple[Crash, Callable[[Address], Machine]]] = []
        # Each crash between steps that fell: (its entry's number from 1, the actor, when,
        # how many timers it lost): what idle_faults needs to tell a crash that lost
        # nothing (no timer armed, nothing in its mailbox or sent to it while down).
        self.crashes_fallen: list[FallenCrash] = []
        if isinstance(self.transport, SimNetwork):
            self.transport.attach(self.timers, self.activity, observer)

    def schedule_crash(self, crash: Crash, rebuild: Callable[[Address], Machine]) -> None:
        """Crash every actor matching ``crash.actor`` at ``crash.at`` (seconds after the
        world starts) and restart it at ``crash.restart`` as ``rebuild(address)``."""
        self._crashes.append((crash, rebuild))

    def add(self, address: Address, machine: Machine) -> Actor:
        """Attach the party ``machine`` at ``address``."""
        if address in self.actors:
            raise TransportError(f"two parties at address {address!r}")
        actor = Actor(
            machine,
            self.transport.open_endpoint(address),
            observer=self.observer,
            # An inline world stops when nothing is queued or pending: it counts no work.
            activity=None if self._inline else self.activity,
            timers=self.timers,
        )
        self.actors[address] = actor
        return actor

    async def run(self) -> None:
        """Start every actor, wait until the world is quiet, then stop them all."""
        now = trio.current_time()
        for actor in self.actors.values():
            actor.prime(now)  # every start effect is counted before any actor runs
        if isinstance(self.transport, SimNetwork):
            self.transport.start(now)
        self._arm_crashes(now)
        if self._inline:
            assert isinstance(self.transport, InlineTransport)
            if self.clock is not None and trio.lowlevel.current_clock() is not self.clock:
                # it would move and read a clock trio does not keep: timers at wrong times
                raise TransportError(
                    "World(clock=...) is not this trio run's clock: pass the MockClock the "
                    "run was started with (trio.run(..., clock=clock)), or no clock"
                )
            with rare_full_collections():  # see actors/_collector.py
                await self._run_inline(self.transport)
            return
        if self.activity.outstanding <= 0:
            return
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.timers.run)
            for actor in self.actors.values():
                nursery.start_soon(actor.run)
            activity = self.activity
            while activity.outstanding > 0:
                # The count can touch zero for a moment (a message dropped in flight while
                # nothing else was pending) and rise again: wait for a zero that stays.
                if activity.quiet.is_set():
                    activity.quiet = trio.Event()
                await activity.quiet.wait()
            nursery.cancel_scope.cancel()

    async def _run_inline(self, transport: InlineTransport) -> None:
        # Per instant: fire the due timers, drain the mailboxes, move the clock. Runs for
        # every message and timer of a run: attributes read into locals once, each ready
        # endpoint's actor, its bound receive and its due-now queue found by one dict probe
        # (most batches are of one message), and the time after each jump of a MockClock
        # at rate 0 added up here as the clock adds it up (see _frozen).
        by_endpoint = {
            actor.endpoint: (actor, actor.receive, actor.due_now) for actor in self.actors.values()
        }
        ready = transport.ready
        timers = self.timers
        fire_due = timers.fire_due
        next_deadline = timers._next_deadline
        clock = self.clock
        frozen = self._frozen(clock)
        now = trio.current_time()
        instants = 0
        try:
            while True:
                fire_due(now)
                handled = 0
                while ready:
                    endpoint = ready.popleft()
                    actor, receive, due_now = by_endpoint[endpoint]
                    mailbox = endpoint.mailbox
                    while mailbox:
                        sender, message = mailbox.popleft()
                        receive(sender, message, now)
                        handled += 1
                    if due_now:
                        actor.fire_due_now(now)
                    if handled >= _CHECKPOINT_EVERY:
                        handled = 0
                        await trio.lowlevel.checkpoint()  # stay cancellable in a long burst
                deadline = next_deadline()
                if deadline == math.inf:
                    if frozen:
                        _same_time(clock, now)
                    return
                if clock is None:
                    await trio.sleep_until(deadline)
                    now = trio.current_time()
                    continue
                clock.jump(deadline - now)
                if frozen:
                    now += deadline - now  # the clock's own sum: its current_time(), exactly
                else:
                    now = clock.current_time()  # what trio.current_time() returns
                instants += 1
                if instants == _CHECKPOINT_EVERY:
                    instants = 0
                    if frozen:
                        _same_time(clock, now)
                    await trio.lowlevel.checkpoint()  # stay cancellable
                    now = clock.current_time()  # another task may move it meanwhile
        finally:
            for actor, _, _ in by_endpoint.values():
                actor.endpoint.close()

    def _frozen(self, clock: trio.testing.MockClock | None) -> bool:
        """Does ``clock`` read exactly the time its jumps add up to, so that the world can
        add them up itself instead of asking it after each (two calls per instant)?

        A MockClock at rate 0 does: its time is the sum of its jumps (plus 0.0 times the
        real time elapsed), which the world computes by the same float additions. Between
        two checkpoints of the run nothing but the world's own code runs; were a step to
        move the clock, the sums would part, and :func:`_same_time` says so at the next
        checkpoint and at the end of the run."""
        return clock is not None and clock.rate == 0

    def _arm_crashes(self, now: float) -> None:
        schedule = _CrashSchedule(self)
        for entry, (crash, rebuild) in enumerate(self._crashes, 1):
            hit = [address for address in self.actors if matches(address, (crash.actor,))]
            if not hit:
                raise no_actor_matches("[[crash]] actor", crash.actor, self.actors)
            storeless = [a for a in hit if not self.actors[a].keeps_store]
            if crash.inside_step and storeless:
                raise FaultPlanError(
                    f"crash of {crash.actor!r} after_writes = {crash.after_writes}: "
                    f"{storeless[0]} keeps no store, so no step of it writes; crash it "
                    "between steps (leave out after_writes)"
                )
            for address in hit:
                start = _CrashEdge(address, "crash", rebuild, crash, entry)
                self.activity.add()
                self.timers.arm(schedule, start, now + crash.at)
                if not crash.inside_step:  # else armed when the crash falls, see below
                    self.activity.add()
                    self.timers.arm(schedule, start._replace(phase="restart"), now + crash.restart)

    def _restart_later(self, edge: _CrashEdge, down_for: float) -> Callable[[float], None]:
        """When a crash inside a step falls at ``now``: restart ``down_for`` later."""

        def crashed(now: float) -> None:
            self.activity.add()
            self.timers.arm(_CrashSchedule(self), edge._replace(phase="restart"), now + down_for)

        return crashed


class _CrashEdge(NamedTuple):
    address: Address
    phase: str  # "crash" (or arm a crash inside a step) or "restart"
    rebuild: Callable[[Address], Machine]
    crash: Crash
    entry: int  # its [[crash]] entry's number, from 1


class FallenCrash(NamedTuple):
    """A crash between steps that fell on an actor up: its ``entry`` (numbered from 1),
    the actor, when, and how many timers it lost."""

    entry: int
    address: Address
    t: float
    timers_lost: int


class _CrashSchedule:
    """Owner of the crash and restart entries in the world's timer heap."""

    def __init__(self, world: World) -> None:
        self._world = world

    def holds_timer(self, key: Hashable, seq: int) -> bool:
        return True

    def timer_due(self, key: Hashable, seq: int, now: float) -> None:
        assert isinstance(key, _CrashEdge)
        actor = self._world.actors[key.address]
        crash = key.crash
        if key.phase == "restart":
            if actor.down:  # overlapping entries: the first restart wins; the rebuild
                actor.restart(key.rebuild(key.address), now)  # closes the old store
        elif crash.inside_step:  # the actor dies in its next matching step
            down_for = crash.restart - crash.at
            actor.arm_crash_inside_step(
                crash.after_writes, crash.during, self._world._restart_later(key, down_for)
            )
        elif not actor.down:  # (an actor still down is not crashed again)
            lost = actor.pending_timers  # (those due at this instant too)
            self._world.crashes_fallen.append(FallenCrash(key.entry, key.address, now, lost))
            actor.crash(now)
        self._world.activity.done()


def _same_time(clock: trio.testing.MockClock | None, now: float) -> None:
    """The time an inline world added up (:meth:`World._frozen`) is still the clock's."""
    if clock is not None and clock.current_time() != now:
        raise TransportError(
            f"the run's clock reads {clock.current_time()!r} where the inline world counted "
            f"{now!r}: something other than the world moved it while the world ran"
        )


_CHECKPOINT_EVERY = 4096
