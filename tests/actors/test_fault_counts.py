"""What the simulated network counts by what configured it, so that a fault which
injected nothing can be named (``actors.idle_faults``), and a World's crash pattern that
matches no actor refused with a did-you-mean (``actors.no_actor_matches``)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from actors import (
    Crash,
    CrashTally,
    EventKind,
    FaultPlanError,
    KnobCount,
    Link,
    NetworkConfig,
    Partition,
    SimNetwork,
    World,
    idle_faults,
)
from tests.actors.test_simnet import Echo, _kinds, _world


def _run(world: World) -> None:
    trio.run(world.run, clock=trio.testing.MockClock(autojump_threshold=0))


def test_each_fault_counts_under_the_entry_whose_value_applied() -> None:
    network = NetworkConfig(
        loss=0.3,
        duplicate=0.3,
        link=(Link(("phone:*", "nobody"), latency=1.0), Link(("cloud", "*"), duplicate=0.0)),
    )
    world, _, _, events = _world(network, burst=200)
    _run(world)
    assert isinstance(world.transport, SimNetwork)
    counts = world.transport.knob_counts()
    lost = len([e for e in _kinds(events, EventKind.DROP) if e.detail == "loss"])
    sent = len(_kinds(events, EventKind.SEND))
    # Link #2 covers every message: its own duplicate (0), the network-wide loss.
    assert counts[("loss", -1)] == KnobCount(sent, lost) and lost > 0
    assert counts[("duplicate", 1)] == KnobCount(sent, 0)
    assert ("duplicate", -1) not in counts
    assert world.transport.sent_by_link() == (0, sent)
    assert [str(f) for f in idle_faults(world)] == [
        "[network] duplicate = 0.3 duplicated no message: none was sent under it during the "
        "run; links with their own duplicate in a [[network.link]] do not use it",
        "[[network.link]] #1 (between phone:* and nobody) carried no message: no two actors "
        "it covers exchanged one (a link is covered by the first entry that matches it)",
    ]


def test_each_partition_counts_what_it_cut() -> None:
    partitions = (
        Partition(("cloud",), 0.5, 10.0),
        Partition(("phone:*",), 0.5, 10.0, other=("cloud",)),  # the same cut: both count
        Partition(("cloud",), 20.0, 30.0),  # after every message
    )
    world, _, echo, _ = _world(NetworkConfig(), burst=5, every=1.0, partitions=partitions)
    _run(world)
    assert len(echo.received) == 1  # the one sent at 0 s; those at 1-4 s are cut
    assert isinstance(world.transport, SimNetwork)
    assert world.transport.cut_by_partition() == (4, 4, 0)
    assert [f.what for f in idle_faults(world)] == ["[[partition]] #3 (side [cloud], 20s to 30s)"]


def test_a_crash_entry_is_checked_against_the_crashes_seen() -> None:
    tally = CrashTally()
    world = World(observer=tally, scheduling="inline")
    world.add("cloud", Echo())
    crashes = (Crash("cloud", 1.0, 5.0), Crash("cloud", 2.0, 6.0))
    for crash in crashes:
        world.schedule_crash(crash, lambda address: world.actors[address].machine)
    _run(world)
    assert tally.crashes == {"cloud": 1}
    (idle,) = idle_faults(world, crashes, tally)
    assert idle.what == "[[crash]] #1, #2"
    with pytest.raises(FaultPlanError, match="need the CrashTally"):
        idle_faults(world, crashes)


def test_a_worlds_crash_pattern_matching_no_actor_gets_a_did_you_mean() -> None:
    world = World(scheduling="inline")
    world.add("phone:+8613800000001", Echo())
    world.schedule_crash(Crash("phnoe:*", 1.0, 2.0), lambda address: Echo())
    with pytest.raises(FaultPlanError) as refused:
        _run(world)
    assert str(refused.value) == (
        "[[crash]] actor: pattern 'phnoe:*' matches no actor; did you mean 'phone:*'?"
    )
