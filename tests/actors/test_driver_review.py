"""Review of the leaner inline world driver (a595cc8, 27e3474): what the before/after
equivalence harness (traces of the built-in scenarios) cannot see.

* a send through an inline endpoint goes straight to the transport's ``_post`` unless the
  transport sees every envelope first (a :class:`~actors.SimNetwork`): its faults must
  still see every message, in an inline world and in a tasks one;
* envelopes built by ``tuple.__new__`` are :class:`~actors.Envelope` s like any other;
* an inline world counts no work, a tasks world must still count all of it (it stops on
  its count): over memory, inline and simulated-network transports, with a crash;
* a step of a machine that keeps a store is one transaction in the inline driver too
  (the storeless shortcut skips ``run_step`` only when there is no store).
"""

from __future__ import annotations

from collections.abc import Hashable

import pytest
import trio
import trio.testing

from actors import (
    Actor,
    Crash,
    Envelope,
    EventKind,
    InlineTransport,
    MemoryTransport,
    NetworkConfig,
    Partition,
    Scheduling,
    SimNetwork,
    TraceEvent,
    TransportError,
    World,
)
from protocol import Address, Effects, Message, Send, Subscribe, SubscribeAck, Timer
from tests.actors.test_actor import Echo
from tests.builders import ALICE, BOB
from tests.planted.bypassed_network import BypassedNetwork
from tests.planted.storeless_store_steps import StorelessStoreSteps
from tests.planted.uncounted_tasks_world import UncountedTasksWorld


class Talker:
    """Sends ``burst`` Subscribes to ``peer`` at start, then one every ``every`` seconds
    (``more`` of them); answers every Subscribe with a SubscribeAck."""

    def __init__(
        self, peer: Address | None = None, burst: int = 0, every: float = 0.0, more: int = 0
    ):
        self.peer = peer
        self.burst = burst
        self.every = every
        self.more = more
        self.received: list[tuple[float, Address, Message]] = []

    def start(self, now: float) -> Effects:
        if self.peer is None:
            return Effects()
        sends = tuple(Send(self.peer, Subscribe(ALICE)) for _ in range(self.burst))
        timers = (Timer(now + self.every, 0),) if self.more else ()
        return Effects(sends=sends, timers=timers)

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        self.received.append((now, sender, message))
        if isinstance(message, Subscribe):
            return Effects(sends=(Send(sender, SubscribeAck(message.phone_id)),))
        return Effects()

    def timer_fired(self, key: Hashable, now: float) -> Effects:
        assert isinstance(key, int) and self.peer is not None
        nxt = key + 1
        timers = (Timer(now + self.every, nxt),) if nxt < self.more else ()
        return Effects(sends=(Send(self.peer, Subscribe(ALICE)),), timers=timers)


def _kinds(
    events: list[TraceEvent], kind: EventKind, detail: str | None = None
) -> list[TraceEvent]:
    return [e for e in events if e.kind is kind and (detail is None or e.detail == detail)]


# ------------------------------------------------------------ every send seen by the network


async def _network_run(
    network_type: type[SimNetwork],
    config: NetworkConfig,
    scheduling: Scheduling,
    partitions: tuple[Partition, ...] = (),
) -> tuple[list[TraceEvent], Talker, Talker]:
    events: list[TraceEvent] = []
    network = network_type(config, seed=3, partitions=partitions)
    world = World(network, observer=events.append, scheduling=scheduling)
    phone, cloud = (
        Talker("cloud", every=0.01, more=50),
        Talker(),
    )  # from 0.01 s: once a partition is on
    world.add("phone:a", phone)
    world.add("cloud", cloud)
    await world.run()
    return events, phone, cloud


async def _faults_all_seen(network_type: type[SimNetwork], scheduling: Scheduling) -> bool:
    """Loss, duplication and a partition each applied to every one of 50 sends."""
    events, _, cloud = await _network_run(network_type, NetworkConfig(loss=1.0), scheduling)
    lost = len(_kinds(events, EventKind.DROP, "loss")) == 50 and not cloud.received
    events, phone, cloud = await _network_run(
        network_type, NetworkConfig(latency=0.01, duplicate=1.0), scheduling
    )
    # each Subscribe twice, and each of the 100 acks twice
    copied = len(cloud.received) == 100 and len(phone.received) == 200
    copied = copied and len(_kinds(events, EventKind.DUPLICATE)) == 150
    events, _, cloud = await _network_run(
        network_type,
        NetworkConfig(),
        scheduling,
        partitions=(Partition(side=("phone:*",), start=0.0, end=5.0),),
    )
    cut = len(_kinds(events, EventKind.DROP, "partition")) == 50 and not cloud.received
    return lost and copied and cut


@pytest.mark.parametrize("scheduling", ["inline", "tasks"])
async def test_every_send_meets_the_network_faults(
    scheduling: Scheduling, autojump_clock: trio.testing.MockClock
) -> None:
    assert await _faults_all_seen(SimNetwork, scheduling)


async def test_the_planted_bypassed_network_is_caught(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # planted: tests/planted/bypassed_network.py (sends take the one-frame path to the
    # mailboxes even on a network that must see them first)
    assert not await _faults_all_seen(BypassedNetwork, "inline")


async def test_a_crashed_party_drops_what_reaches_it_on_the_one_frame_path(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # an InlineTransport (no network): sends take the one-frame path straight to _post
    events: list[TraceEvent] = []
    world = World(observer=events.append, scheduling="inline")
    phone, cloud = Talker("cloud", every=0.1, more=40), Talker()
    world.add("phone:a", phone)
    world.add("cloud", cloud)
    world.schedule_crash(Crash("cloud", at=1.05, restart=2.05), lambda address: Talker())
    await world.run()
    down = _kinds(events, EventKind.DROP, "down")
    assert len(down) == 10  # one send every 0.1 s for the 1 s the cloud was down
    assert len(cloud.received) == 10  # before the crash; the rebuilt one took the rest
    rebuilt = world.actors["cloud"].machine
    assert isinstance(rebuilt, Talker) and len(rebuilt.received) == 20


# ------------------------------------------------------------ envelopes


@pytest.mark.parametrize("kind", ["inline", "memory", "network", "network-latency"])
async def test_envelopes_are_envelopes_on_every_transport(
    kind: str, autojump_clock: trio.testing.MockClock
) -> None:
    message = Subscribe(ALICE)
    transport: InlineTransport | MemoryTransport
    if kind.startswith("network"):
        transport = SimNetwork(NetworkConfig(latency=0.5 if kind == "network-latency" else 0.0))
        world = World(transport, scheduling="inline")  # the network delivers through its heap
    else:
        transport = InlineTransport() if kind == "inline" else MemoryTransport()
    sender = transport.open_endpoint("a")
    recipient = transport.open_endpoint("b")
    sender.send("b", message)
    if kind == "network-latency":
        world.timers.fire_due(trio.current_time() + 1.0)
    envelope = await recipient.receive()
    assert type(envelope) is Envelope
    assert envelope == Envelope("a", "b", message)
    assert (envelope.sender, envelope.recipient, envelope.message) == ("a", "b", message)


# ------------------------------------------------------------ the tasks world's count


async def _tasks_world_finishes(
    world_type: type[World], transport: InlineTransport | MemoryTransport
) -> bool:
    """A tasks world whose cloud crashes and restarts while the phone still sends stops
    only when the phone's last send was handled (at 3 s), not at the restart (1.5 s)."""
    events: list[TraceEvent] = []
    world = world_type(transport, observer=events.append, scheduling="tasks")
    phone, cloud = Talker("cloud", burst=5, every=0.1, more=30), Talker()
    world.add("phone:a", phone)
    world.add("cloud", cloud)
    world.schedule_crash(Crash("cloud", at=1.0, restart=1.5), lambda address: Talker())
    start = trio.current_time()
    await world.run()
    rebuilt = world.actors["cloud"].machine
    assert isinstance(rebuilt, Talker)
    handled = len(cloud.received) + len(rebuilt.received)
    dropped = len(_kinds(events, EventKind.DROP, "down"))
    return (
        handled + dropped == 35
        and len(phone.received) == handled
        and trio.current_time() - start == pytest.approx(3.0, abs=0.1)  # + latency
        and world.activity.outstanding == 0
    )


@pytest.mark.parametrize("kind", ["inline", "memory", "network"])
async def test_a_tasks_world_waits_for_all_its_work(
    kind: str, autojump_clock: trio.testing.MockClock
) -> None:
    transport: InlineTransport | MemoryTransport
    if kind == "network":
        transport = SimNetwork(NetworkConfig(latency=0.01))
    else:
        transport = InlineTransport() if kind == "inline" else MemoryTransport()
    assert await _tasks_world_finishes(World, transport)


async def test_the_planted_uncounted_tasks_world_is_caught(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # planted: tests/planted/uncounted_tasks_world.py (its actors count no work, as an
    # inline world's do, in a world that stops on the count)
    assert not await _tasks_world_finishes(UncountedTasksWorld, InlineTransport())


# ------------------------------------------------------------ a step with a store: atomic


class Ledger:
    """A store with step transactions: writes are kept only when their step commits."""

    def __init__(self) -> None:
        self.committed: list[str] = []
        self._step: list[str] | None = None
        self.rolled_back = 0

    def begin_step(self) -> None:
        self._step = []

    def commit_step(self) -> None:
        assert self._step is not None
        self.committed += self._step
        self._step = None

    def rollback_step(self) -> None:
        self._step = None
        self.rolled_back += 1

    def write(self, what: str) -> None:
        if self._step is None:  # outside any step: durable at once, as a bare store is
            self.committed.append(what)
        else:
            self._step.append(what)


BAD = BOB


class Boom(Exception):
    pass


class Keeper:
    """Writes one entry per step; a step on a Subscribe of ``BAD`` or the timer ``"bad"``
    writes, then raises (the process never finishes it)."""

    def __init__(self) -> None:
        self.store = Ledger()

    def start(self, now: float) -> Effects:
        return Effects(timers=(Timer(now + 1.0, "ok"), Timer(now + 2.0, "bad")))

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        assert isinstance(message, Subscribe)
        self.store.write(f"got {message.phone_id}")
        if message.phone_id == BAD:
            raise Boom
        return Effects()

    def timer_fired(self, key: Hashable, now: float) -> Effects:
        self.store.write(f"timer {key}")
        if key == "bad":
            raise Boom
        return Effects()


def _steps_are_atomic(actor_type: type[Actor]) -> bool:
    transport = InlineTransport()
    keeper = Keeper()
    actor = actor_type(keeper, transport.open_endpoint("cloud"))
    actor.deliver(Envelope("phone:a", "cloud", Subscribe(ALICE)), 0.0)
    with pytest.raises(Boom):
        actor.deliver(Envelope("phone:a", "cloud", Subscribe(BAD)), 0.0)
    return keeper.store.committed == [f"got {ALICE}"] and keeper.store.rolled_back == 1


def test_a_step_of_a_machine_with_a_store_is_one_transaction() -> None:
    assert _steps_are_atomic(Actor)


def test_the_planted_storeless_store_steps_are_caught() -> None:
    # planted: tests/planted/storeless_store_steps.py (the storeless shortcut taken for a
    # machine that keeps a store)
    assert not _steps_are_atomic(StorelessStoreSteps)


async def test_a_fired_timer_with_a_store_is_one_transaction_in_an_inline_world(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = World(scheduling="inline")
    keeper = Keeper()
    world.add("cloud", keeper)
    with pytest.raises(Boom):
        await world.run()
    assert keeper.store.committed == ["timer ok"]
    assert keeper.store.rolled_back == 1


async def test_an_inline_world_refuses_a_clock_not_the_runs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Since a595cc8 an inline world reads the time from its ``clock`` itself: a MockClock
    that is not the trio run's own would fire its timers at that clock's times (a timer
    due at 30 s fired at 1005 s), silently. It is refused at ``run()``, nothing fired; the
    run's own clock is taken."""
    foreign = trio.testing.MockClock()
    foreign.jump(1000.0)  # not the run's: it reads 1000 s more
    start = trio.current_time()
    for clock, refused in ((foreign, True), (autojump_clock, False)):
        world = World(scheduling="inline", clock=clock)
        machine = Echo(timers=(Timer(start + 5.0, "a"), Timer(start + 30.0, "b")))
        world.add("x", machine)
        if refused:
            with pytest.raises(TransportError, match="not this trio run's clock"):
                await world.run()
            assert machine.fired == []
        else:
            await world.run()
            assert [(key, at - start) for key, at in machine.fired] == [("a", 5.0), ("b", 30.0)]
