"""A send to an address nobody holds: one behaviour on every transport (reviewer B's F5).

The memory transports refuse it at sending (``UnknownAddress``): the sender's step traces
``send-failed`` and the run goes on. A :class:`~actors.SimNetwork` with latency found out
only on arrival, from the timer heap: "error: no party at ..." (exit 2) inline, an
``ExceptionGroup`` traceback with ``--scheduling tasks`` (its work count never decremented).
Now it refuses at sending too. Planted: the network that checks on arrival
(``tests/planted/arrival_checked_network.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import trio
import trio.testing

from actors import (
    EventKind,
    InlineTransport,
    MemoryTransport,
    NetworkConfig,
    Scheduling,
    SimNetwork,
    TraceEvent,
    Transport,
    UnknownAddress,
    World,
)
from protocol import Effects, Message, Send, Subscribe
from tests.planted.arrival_checked_network import ArrivalCheckedNetwork

NOBODY = "phone:+8613899999999"


class _Sender:
    """Sends one message to nobody at start, then one to itself (the run goes on)."""

    def start(self, now: float) -> Effects:
        message = Subscribe("+8613800000001")
        return Effects(sends=(Send(NOBODY, message), Send("cloud", message)))

    def handle(self, message: Message, sender: str, now: float) -> Effects:
        return Effects()

    def timer_fired(self, key: object, now: float) -> Effects:
        return Effects()


def _run(transport: Transport | None, scheduling: Scheduling) -> list[TraceEvent]:
    events: list[TraceEvent] = []

    async def main() -> None:
        world = World(transport, observer=events.append, scheduling=scheduling)
        world.add("cloud", _Sender())
        with trio.fail_after(5):
            await world.run()

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    return events


TRANSPORTS: list[tuple[str, Callable[[], Transport | None], Scheduling]] = [
    ("inline", InlineTransport, "inline"),
    ("memory-tasks", MemoryTransport, "tasks"),
    ("simnet-0-inline", lambda: SimNetwork(NetworkConfig()), "inline"),
    ("simnet-40ms-inline", lambda: SimNetwork(NetworkConfig(latency=0.04)), "inline"),
    ("simnet-40ms-tasks", lambda: SimNetwork(NetworkConfig(latency=0.04)), "tasks"),
]


@pytest.mark.parametrize(
    ("make", "scheduling"), [(m, s) for _, m, s in TRANSPORTS], ids=[n for n, _, _ in TRANSPORTS]
)
def test_a_send_to_nobody_fails_at_sending_everywhere(
    make: Callable[[], Transport | None], scheduling: Scheduling
) -> None:
    events = _run(make(), scheduling)
    kinds = [(e.kind, e.recipient) for e in events]
    assert kinds == [
        (EventKind.SEND, NOBODY),
        (EventKind.SEND_FAILED, NOBODY),
        (EventKind.SEND, "cloud"),
        (EventKind.RECEIVE, "cloud"),
    ]
    assert "no party at" in str(events[1].detail)


@pytest.mark.parametrize("scheduling", ["inline", "tasks"])
def test_the_network_checking_on_arrival_is_caught(scheduling: Scheduling) -> None:
    # raised out of the run, from the timer heap (in a group, under tasks): no send-failed
    with pytest.raises((UnknownAddress, BaseExceptionGroup)) as raised:
        _run(ArrivalCheckedNetwork(NetworkConfig(latency=0.04)), scheduling)
    assert "no party at" in repr(raised.value) or raised.group_contains(UnknownAddress, depth=9)
