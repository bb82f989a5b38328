"""The one effects interpreter (actors._effects) that every driver of a machine uses."""

from __future__ import annotations

from collections.abc import Hashable

from actors import Activity, EffectsInterpreter, EventKind, TimerService, TraceEvent, TransportError
from protocol import CLOUD, Address, Effects, Message, Note, Send, Subscribe, Timer

PHONE = "phone:+8613800000001"
SUBSCRIBE = Subscribe("+8613800000001")


class _Owner:
    """A TimerOwner that records what comes due."""

    def __init__(self) -> None:
        self.interpreter: EffectsInterpreter | None = None

    def holds_timer(self, key: Hashable, seq: int) -> bool:
        assert self.interpreter is not None
        return self.interpreter.holds(key, seq)

    def timer_due(self, key: Hashable, seq: int, now: float) -> None:
        raise AssertionError("not fired in these tests")


class _Rig:
    def __init__(self, *, counted: bool, refuse: bool = False) -> None:
        self.events: list[TraceEvent] = []
        self.sent: list[tuple[Address, Message]] = []
        self.due_now: list[tuple[Hashable, int]] = []
        self.timers = TimerService()
        self.activity = Activity() if counted else None
        owner = _Owner()

        def send(to: Address, message: Message) -> None:
            if refuse:
                raise TransportError("down")
            self.sent.append((to, message))

        self.interpreter = EffectsInterpreter(
            CLOUD,
            send,
            self.timers,
            owner,
            self.due_now.append,
            observer=self.events.append,
            activity=self.activity,
        )
        owner.interpreter = self.interpreter


def test_cancels_come_before_timers_and_a_key_armed_again_moves() -> None:
    rig = _Rig(counted=True)
    effects = rig.interpreter
    effects.apply(Effects(timers=(Timer(5.0, "a"), Timer(6.0, "b"))), 0.0)
    first_a = effects.armed["a"]
    # cancel and re-arm "a" in one step: armed (cancels first); "b" moved, counted once
    effects.apply(Effects(timers=(Timer(7.0, "a"), Timer(8.0, "b")), cancels=("a",)), 1.0)
    assert set(effects.armed) == {"a", "b"}
    assert not effects.holds("a", first_a)
    assert not effects.take("a", first_a)  # the moved entry never fires
    assert effects.take("a", effects.armed["a"])
    assert "a" not in effects.armed
    assert rig.activity is not None and rig.activity.outstanding == 2  # a (again), b


def test_a_timer_due_already_goes_to_due_now_not_the_service() -> None:
    rig = _Rig(counted=False)
    rig.interpreter.apply(Effects(timers=(Timer(3.0, "now"), Timer(9.0, "later"))), 3.0)
    assert rig.due_now == [("now", rig.interpreter.armed["now"])]
    assert rig.timers._next_deadline() == 9.0


def test_notes_then_sends_observed_in_order() -> None:
    rig = _Rig(counted=True)
    note = Note("push-withheld", "r-1")
    rig.interpreter.apply(Effects(sends=(Send(PHONE, SUBSCRIBE),), notes=(note,)), 2.0)
    assert rig.events == [
        TraceEvent(2.0, EventKind.NOTE, CLOUD, CLOUD, note=note),
        TraceEvent(2.0, EventKind.SEND, CLOUD, PHONE, SUBSCRIBE),
    ]
    assert rig.sent == [(PHONE, SUBSCRIBE)]
    assert rig.activity is not None and rig.activity.outstanding == 1


def test_a_refused_send_is_traced_and_uncounted() -> None:
    for counted in (True, False):
        rig = _Rig(counted=counted, refuse=True)
        rig.interpreter.apply(Effects(sends=(Send(PHONE, SUBSCRIBE),)), 4.0)
        kinds = [event.kind for event in rig.events]
        assert kinds == [EventKind.SEND, EventKind.SEND_FAILED]
        assert isinstance(rig.events[1].detail, TransportError)
        if rig.activity is not None:
            assert rig.activity.outstanding == 0
