"""The reorder knob counts what arrived out of order, not what it held back.

``[network] reorder`` holds messages back; a held-back message is reordered only if a
message sent after it on the same link arrives first. On a link that carries one message
at a time nothing can overtake it, and a duplicate's unheld copy arriving first is the
same message, not a reordering: in the ``faults`` scenario only 105 of its 1,644
hold-backs arrived after a message sent later on their link. ``SimNetwork.knob_counts``
counts the overtaken ones as the knob's faults (``held_back`` keeps them all), so a
reorder that reordered nothing is an idle fault (``actors.idle_faults``) instead of a
busy-looking count. Planted: ``tests/planted/holdback_counted_network.py`` (every
hold-back counted) and ``tests/planted/copy_numbered_network.py`` (overtaken by its own
copy counted) are caught.
"""

from __future__ import annotations

from collections.abc import Hashable

import pytest
import trio
import trio.testing

from actors import EventKind, NetworkConfig, SimNetwork, TraceEvent, World, idle_faults
from protocol import Address, Effects, Message, Send, Subscribe, Timer
from tests.planted.copy_numbered_network import CopyNumberedNetwork
from tests.planted.holdback_counted_network import HoldbackCountedNetwork

REORDER = NetworkConfig(latency=0.04, reorder=0.5, reorder_delay=1.0)
DUPLICATED = NetworkConfig(latency=0.04, reorder=0.5, reorder_delay=1.0, duplicate=0.5)
WHAT = "[network] reorder = 0.5"


class Sender:
    """Sends ``count`` distinct subscriptions to the cloud, ``every`` seconds apart (all at
    the start for 0), and records nothing."""

    def __init__(self, count: int, every: float) -> None:
        self.count, self.every = count, every

    def start(self, now: float) -> Effects:
        if self.every:
            return Effects(timers=(Timer(now, 0),))
        return Effects(sends=tuple(Send("cloud", _subscribe(n)) for n in range(self.count)))

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        return Effects()

    def timer_fired(self, key: Hashable, now: float) -> Effects:
        assert isinstance(key, int)
        more = (Timer(now + self.every, key + 1),) if key + 1 < self.count else ()
        return Effects(sends=(Send("cloud", _subscribe(key)),), timers=more)


class Receiver:
    """Records what arrives, in order; answers nothing (one link carries messages)."""

    def __init__(self) -> None:
        self.received: list[Message] = []

    def start(self, now: float) -> Effects:
        return Effects()

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        self.received.append(message)
        return Effects()

    def timer_fired(self, key: Hashable, now: float) -> Effects:
        return Effects()


def _subscribe(n: int) -> Subscribe:
    return Subscribe(f"+86138{n:08d}")


def _run(network: SimNetwork, *, count: int, every: float) -> tuple[World, int, int]:
    """The world after the run, the messages held back, and of them the ones that arrived
    after a message sent later (read from the arrival order alone)."""
    events: list[TraceEvent] = []
    world = World(network, observer=events.append)
    receiver = Receiver()
    world.add("phone:a", Sender(count, every))
    world.add("cloud", receiver)
    trio.run(world.run, clock=trio.testing.MockClock(autojump_threshold=0))
    held = {e.message for e in events if e.kind is EventKind.DELAY}
    arrived = [int(m.phone_id[6:]) for m in receiver.received if isinstance(m, Subscribe)]
    assert set(arrived) == set(range(count))  # nothing lost
    # A held-back message arrives after its duplicate (no jitter: the copy is not held):
    # its last arrival is the held one.
    last = {n: place for place, n in enumerate(arrived)}
    overtaken = sum(
        1
        for n, place in last.items()
        if _subscribe(n) in held and max(arrived[:place], default=-1) > n
    )
    return world, len(held), overtaken


def test_a_burst_counts_the_held_back_messages_that_were_overtaken() -> None:
    world, held, overtaken = _run(SimNetwork(REORDER, seed=3), count=200, every=0.0)
    assert isinstance(world.transport, SimNetwork)
    count = world.transport.knob_counts()[("reorder", -1)]
    assert count.held_back == held > 50
    assert count.injected == overtaken > 0
    assert idle_faults(world) == []


def check_a_reorder_that_reorders_nothing_is_idle(
    network: type[SimNetwork], config: NetworkConfig = REORDER
) -> None:
    # 5 s apart: a hold-back of at most 1 s is late, never overtaken
    world, held, overtaken = _run(network(config, seed=3), count=20, every=5.0)
    assert isinstance(world.transport, SimNetwork)
    assert held > 3 and overtaken == 0
    idle = idle_faults(world)
    assert [fault.what for fault in idle] == [WHAT], "the idle reorder was not named"
    assert f"held back {held} of the 20 messages" in idle[0].why
    assert "none of them arrived after a message sent later on the same link" in idle[0].why
    assert world.transport.knob_counts()[("reorder", -1)].injected == 0


def test_a_reorder_on_a_link_carrying_one_message_at_a_time_is_idle() -> None:
    check_a_reorder_that_reorders_nothing_is_idle(SimNetwork)


def test_a_held_back_message_its_own_duplicate_overtook_is_not_reordered() -> None:
    # each copy of a duplicated message arrives too: the unheld copy first, the same message
    check_a_reorder_that_reorders_nothing_is_idle(SimNetwork, DUPLICATED)


def test_a_network_judging_overtakes_by_copy_is_caught() -> None:
    with pytest.raises(AssertionError, match="the idle reorder was not named"):
        check_a_reorder_that_reorders_nothing_is_idle(CopyNumberedNetwork, DUPLICATED)


def test_a_network_counting_hold_backs_as_reorders_is_caught() -> None:
    with pytest.raises(AssertionError, match="the idle reorder was not named"):
        check_a_reorder_that_reorders_nothing_is_idle(HoldbackCountedNetwork)
