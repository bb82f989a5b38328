"""The actor driver: timers as deadlines in virtual time, mailbox, observers, cancellation."""

from __future__ import annotations

import attrs
import pytest
import trio
import trio.testing

from actors import Actor, EventKind, MemoryTransport, Scheduling, TraceEvent, TransportError, World
from protocol import Address, Effects, Message, Note, Send, Timer, UploadAck


@attrs.define
class Echo:
    """A toy machine: answers every UploadAck with one to the sender; arms given timers."""

    timers: tuple[Timer, ...] = ()
    fired: list[tuple[object, float]] = attrs.field(factory=list)
    handled: list[tuple[Message, Address, float]] = attrs.field(factory=list)
    reply: bool = True

    def start(self, now: float) -> Effects:
        return Effects(timers=self.timers)

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        self.handled.append((message, sender, now))
        if not self.reply:
            return Effects(notes=(Note("got", detail=str(message)),))
        return Effects(sends=(Send(sender, message),))

    def timer_fired(self, key: object, now: float) -> Effects:
        self.fired.append((key, now))
        return Effects()


@pytest.fixture(params=["tasks", "inline"])
def scheduling(request: pytest.FixtureRequest) -> Scheduling:
    chosen: Scheduling = request.param
    return chosen


async def test_timers_fire_at_their_virtual_deadlines_in_order(
    autojump_clock: trio.testing.MockClock, scheduling: Scheduling
) -> None:
    start = trio.current_time()
    machine = Echo(
        timers=(Timer(start + 30.0, "b"), Timer(start + 5.0, "a"), Timer(start - 1, "c"))
    )
    world = World(scheduling=scheduling)
    world.add("x", machine)
    await world.run()
    assert [key for key, _ in machine.fired] == ["c", "a", "b"]
    assert [round(now - start, 6) for _, now in machine.fired] == [0.0, 5.0, 30.0]


async def test_world_stops_by_itself_when_no_work_is_left(
    autojump_clock: trio.testing.MockClock, scheduling: Scheduling
) -> None:
    events: list[TraceEvent] = []
    world = World(observer=events.append, scheduling=scheduling)
    quiet = Echo(reply=False)
    world.add("quiet", quiet)
    talker = Echo(timers=(Timer(trio.current_time() + 1.0, "go"),))
    world.add("talker", talker)
    # the talker's timer does nothing; send one message by hand through an extra endpoint
    sender = world.transport.open_endpoint("hand")
    world.activity.add()  # the hand-sent message is work the world must wait for
    sender.send("quiet", UploadAck("R1", "shop-a"))
    await world.run()
    assert [m for m, _, _ in quiet.handled] == [UploadAck("R1", "shop-a")]
    kinds = [e.kind for e in events]
    assert EventKind.RECEIVE in kinds and EventKind.NOTE in kinds and EventKind.TIMER in kinds


async def test_an_empty_world_returns_at_once(
    autojump_clock: trio.testing.MockClock, scheduling: Scheduling
) -> None:
    start = trio.current_time()
    await World(scheduling=scheduling).run()
    assert trio.current_time() == start


async def test_cancelling_an_actor_closes_its_endpoint() -> None:
    transport = MemoryTransport()
    actor = Actor(Echo(), transport.open_endpoint("x"))
    other = transport.open_endpoint("y")
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)
        nursery.cancel_scope.cancel()
    with pytest.raises(TransportError, match="x"):
        other.send("x", UploadAck("R1", "shop-a"))


async def test_sends_and_receipts_are_observed_with_the_virtual_time(
    autojump_clock: trio.testing.MockClock, scheduling: Scheduling
) -> None:
    events: list[TraceEvent] = []
    world = World(observer=events.append, scheduling=scheduling)
    world.add("a", Echo())
    world.add("b", Echo(reply=False))

    class Kick(Echo):
        def start(self, now: float) -> Effects:
            return Effects(timers=(Timer(now + 7.0, "kick"),))

        def timer_fired(self, key: object, now: float) -> Effects:
            return Effects(sends=(Send("b", UploadAck("R9", "shop-a")),))

    world.add("k", Kick())
    start = trio.current_time()
    await world.run()
    sent = [e for e in events if e.kind is EventKind.SEND]
    received = [e for e in events if e.kind is EventKind.RECEIVE]
    assert [(e.sender, e.recipient, e.t - start) for e in sent] == [("k", "b", 7.0)]
    assert [(e.sender, e.recipient, e.receipt_id) for e in received] == [("k", "b", "R9")]


async def test_a_send_the_transport_refuses_is_observed_not_lost(
    autojump_clock: trio.testing.MockClock, scheduling: Scheduling
) -> None:
    events: list[TraceEvent] = []
    world = World(observer=events.append, scheduling=scheduling)

    class ToNowhere(Echo):
        def start(self, now: float) -> Effects:
            return Effects(sends=(Send("nowhere", UploadAck("R1", "shop-a")),))

    world.add("a", ToNowhere())
    await world.run()
    failed = [e for e in events if e.kind is EventKind.SEND_FAILED]
    assert len(failed) == 1 and "nowhere" in str(failed[0].detail)


async def test_cancelled_and_moved_timers_do_not_fire(
    autojump_clock: trio.testing.MockClock, scheduling: Scheduling
) -> None:
    @attrs.define
    class Canceller(Echo):
        def start(self, now: float) -> Effects:
            return Effects(
                timers=(Timer(now + 1, "first"), Timer(now + 50, "doomed"), Timer(now + 9, "moved"))
            )

        def timer_fired(self, key: object, now: float) -> Effects:
            self.fired.append((key, now))
            if key == "first":
                return Effects(cancels=("doomed",), timers=(Timer(now + 2, "moved"),))
            return Effects()

    machine = Canceller()
    world = World(scheduling=scheduling)
    world.add("x", machine)
    start = trio.current_time()
    await world.run()
    assert [(key, now - start) for key, now in machine.fired] == [("first", 1.0), ("moved", 3.0)]
    assert trio.current_time() - start == 3.0  # the world stops without waiting for "doomed"
    assert world.actors["x"].pending_timers == 0
