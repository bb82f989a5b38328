"""The simulated network (actors._simnet) and crashes (actors._world): in virtual time."""

from __future__ import annotations

from collections.abc import Hashable

import pytest
import trio
import trio.testing

from actors import (
    Crash,
    EventKind,
    FaultPlanError,
    Link,
    NetworkConfig,
    Partition,
    Scheduling,
    SimNetwork,
    TraceEvent,
    World,
)
from protocol import Address, Effects, Message, Send, Subscribe, SubscribeAck, Timer
from tests.builders import ALICE


class Echo:
    """Answers every Subscribe with a SubscribeAck; sends ``burst`` subscriptions at start."""

    def __init__(self, peer: Address | None = None, burst: int = 0, every: float = 0.0) -> None:
        self.peer = peer
        self.burst = burst
        self.every = every
        self.received: list[tuple[float, Message]] = []
        self.starts = 0

    def start(self, now: float) -> Effects:
        self.starts += 1
        if self.peer is None or self.burst == 0 or self.starts > 1:
            return Effects()
        if self.every:
            return Effects(timers=(Timer(now, 0),))
        return Effects(sends=tuple(Send(self.peer, Subscribe(ALICE)) for _ in range(self.burst)))

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        self.received.append((now, message))
        if isinstance(message, Subscribe):
            return Effects(sends=(Send(sender, SubscribeAck(message.phone_id)),))
        return Effects()

    def timer_fired(self, key: Hashable, now: float) -> Effects:
        assert isinstance(key, int) and self.peer is not None
        following = key + 1
        timers = (Timer(now + self.every, following),) if following < self.burst else ()
        return Effects(sends=(Send(self.peer, Subscribe(ALICE)),), timers=timers)


def _world(
    network: NetworkConfig,
    *,
    burst: int,
    every: float = 0.0,
    seed: int = 1,
    partitions: tuple[Partition, ...] = (),
    scheduling: Scheduling = "inline",
) -> tuple[World, Echo, Echo, list[TraceEvent]]:
    events: list[TraceEvent] = []
    transport = SimNetwork(network, seed=seed, partitions=partitions)
    world = World(transport, observer=events.append, scheduling=scheduling)
    sender, echo = Echo("cloud", burst, every), Echo()
    world.add("phone:a", sender)
    world.add("cloud", echo)
    return world, sender, echo, events


def _kinds(events: list[TraceEvent], kind: EventKind) -> list[TraceEvent]:
    return [e for e in events if e.kind is kind]


async def test_latency_and_jitter_delay_each_message(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world, sender, echo, _ = _world(NetworkConfig(latency=0.05, jitter=0.02), burst=50)
    start = trio.current_time()
    await world.run()
    assert len(echo.received) == 50
    assert all(0.05 <= at - start <= 0.07 for at, _ in echo.received)
    assert len({at for at, _ in echo.received}) > 40  # jitter spreads them
    assert len(sender.received) == 50  # every answer came back too


async def test_a_perfect_simulated_network_delivers_at_once_in_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world, _, echo, events = _world(NetworkConfig(), burst=5)
    await world.run()
    assert [at for at, _ in echo.received] == [trio.current_time()] * 5
    assert not [e for e in events if e.kind in (EventKind.DROP, EventKind.DUPLICATE)]


@pytest.mark.parametrize("scheduling", ["inline", "tasks"])
async def test_loss_and_duplication_are_drawn_at_their_rates(
    scheduling: Scheduling, autojump_clock: trio.testing.MockClock
) -> None:
    network = NetworkConfig(latency=0.01, loss=0.2, duplicate=0.2)
    world, sender, echo, events = _world(network, burst=2000, scheduling=scheduling)
    await world.run()
    sends = len(_kinds(events, EventKind.SEND))
    dropped = [e for e in _kinds(events, EventKind.DROP) if e.detail == "loss"]
    copied = _kinds(events, EventKind.DUPLICATE)
    # a binomial count: 0.2 of the sends, within 5 standard deviations
    for count, survivors in ((len(dropped), sends), (len(copied), sends - len(dropped))):
        expected = 0.2 * survivors
        assert abs(count - expected) < 5 * (expected * 0.8) ** 0.5, (count, expected)
    # every message that was not lost arrived, and its copies too
    received = len(_kinds(events, EventKind.RECEIVE))
    assert received == sends - len(dropped) + len(copied)
    assert len(echo.received) + len(sender.received) == received


async def test_reordering_lets_later_messages_overtake(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = NetworkConfig(latency=0.01, reorder=0.3, reorder_delay=1.0)
    world, _, _, events = _world(network, burst=200, every=0.05)
    await world.run()
    delayed = [e for e in _kinds(events, EventKind.DELAY) if e.sender == "phone:a"]
    assert 30 < len(delayed) < 90  # 0.3 of 200
    sent_order = [e.t for e in _kinds(events, EventKind.SEND) if e.sender == "phone:a"]
    assert sent_order == sorted(sent_order)
    arrivals = [e.t for e in _kinds(events, EventKind.RECEIVE) if e.recipient == "cloud"]
    assert len(arrivals) == 200
    # the k-th arrival is not the k-th send: some overtook others
    overtaken = sum(1 for a, s in zip(arrivals, sent_order, strict=True) if a - s > 0.02)
    assert overtaken > 30


async def test_faults_stop_after_the_fault_phase(autojump_clock: trio.testing.MockClock) -> None:
    network = NetworkConfig(latency=0.01, loss=0.5, duplicate=0.5, reorder=0.5, faults_until=5.0)
    world, _, _, events = _world(network, burst=100, every=0.1)
    await world.run()
    faults = [e for e in events if e.kind in (EventKind.DROP, EventKind.DUPLICATE, EventKind.DELAY)]
    assert faults
    assert all(e.t < 5.0 for e in faults)
    assert len([e for e in _kinds(events, EventKind.SEND) if e.t >= 5.0]) > 80


async def test_a_link_setting_overrides_the_network_one(
    autojump_clock: trio.testing.MockClock,
) -> None:
    slow_replies = Link(between=("cloud", "phone:*"), latency=2.0)
    world, sender, echo, _ = _world(NetworkConfig(latency=0.1, link=(slow_replies,)), burst=3)
    await world.run()
    assert [at for at, _ in echo.received] == [pytest.approx(2.0)] * 3  # the link is two-way
    assert [at for at, _ in sender.received] == [pytest.approx(4.0)] * 3


async def test_a_partition_cuts_messages_while_it_lasts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    partition = Partition(side=("cloud",), start=2.0, end=4.0)
    world, _, echo, events = _world(
        NetworkConfig(latency=0.01), burst=60, every=0.1, partitions=(partition,)
    )
    await world.run()
    cut = [e for e in _kinds(events, EventKind.DROP) if e.detail == "partition"]
    assert cut and all(2.0 <= e.t <= 4.01 for e in cut)
    assert [(e.sender, e.recipient, e.detail) for e in _kinds(events, EventKind.PARTITION)] == [
        ("cloud", "*", "start"),
        ("cloud", "*", "end"),
    ]
    assert all(not 2.01 <= at <= 4.0 for at, _ in echo.received)
    assert len(echo.received) == 60 - len([e for e in cut if e.recipient == "cloud"])


def test_partition_membership() -> None:
    pos_from_cloud = Partition(side=("pos:*",), other=("cloud",), start=0, end=1)
    assert pos_from_cloud.cuts("pos:a:1", "cloud")
    assert pos_from_cloud.cuts("cloud", "pos:a:1")
    assert not pos_from_cloud.cuts("pos:a:1", "phone:+86")
    assert not pos_from_cloud.cuts("phone:+86", "cloud")
    alone = Partition(side=("cloud",), start=0, end=1)
    assert alone.cuts("cloud", "phone:+86") and alone.cuts("pos:a:1", "cloud")
    assert not alone.cuts("pos:a:1", "phone:+86")


async def test_the_same_seed_gives_the_same_deliveries(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = NetworkConfig(latency=0.05, jitter=0.05, loss=0.1, duplicate=0.1, reorder=0.1)
    runs = []
    for seed in (5, 5, 6):
        world, _, _, events = _world(network, burst=300, seed=seed)
        start = trio.current_time()
        await world.run()
        runs.append([(round(e.t - start, 9), e.kind, e.sender, e.detail) for e in events])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.parametrize("scheduling", ["inline", "tasks"])
async def test_a_crashed_actor_loses_its_timers_and_mail_and_restarts(
    scheduling: Scheduling, autojump_clock: trio.testing.MockClock
) -> None:
    events: list[TraceEvent] = []
    world = World(
        SimNetwork(NetworkConfig(latency=0.01)),
        observer=events.append,
        scheduling=scheduling,
    )
    sender, echo = Echo("cloud", burst=100, every=0.1), Echo()
    world.add("phone:a", sender)
    world.add("cloud", echo)
    rebuilt: list[Address] = []

    def rebuild(address: Address) -> Echo:
        rebuilt.append(address)
        return echo

    world.schedule_crash(Crash("cloud", at=3.0, restart=5.0), rebuild)
    start = trio.current_time()
    await world.run()
    assert rebuilt == ["cloud"]
    assert [e.kind for e in events if e.kind in (EventKind.CRASH, EventKind.RESTART)] == [
        EventKind.CRASH,
        EventKind.RESTART,
    ]
    down = [e for e in _kinds(events, EventKind.DROP) if e.detail == "down"]
    assert len(down) == 20  # one send every 0.1 s for the 2 s the cloud was down
    assert all(3.0 <= e.t - start <= 5.0 for e in down)
    assert len(echo.received) == 80
    assert echo.starts == 2  # started, then restarted


def test_crash_schedules_are_validated() -> None:
    with pytest.raises(FaultPlanError, match="must come after the crash"):
        Crash("cloud", at=5.0, restart=5.0)
    with pytest.raises(FaultPlanError, match="every partition heals"):
        Partition(side=("cloud",), start=3.0, end=1.0)
    with pytest.raises(FaultPlanError, match="fraction"):
        NetworkConfig(loss=1.5)


async def test_a_crash_of_nobody_is_refused(autojump_clock: trio.testing.MockClock) -> None:
    world = World(SimNetwork(), scheduling="inline")
    world.add("cloud", Echo())
    world.schedule_crash(Crash("phone:*", at=1.0, restart=2.0), lambda a: Echo())
    with pytest.raises(FaultPlanError, match="no actor"):
        await world.run()
