"""The world's timer heap (actors._timers): stale entries counted and compacted away,
without losing or reordering a live timer."""

from __future__ import annotations

from collections.abc import Hashable

import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from actors import Actor, EffectsInterpreter, TimerService, World
from protocol import CLOUD, Address, Effects, Message, Timer
from tests.planted.latest_deadline_compaction import LatestDeadlineCompaction
from tests.planted.never_compacting_heap import NeverCompactingHeap


class _Rig:
    """One owner's timers through the effects interpreter, over ``service``, fired as a
    driver fires them: the due-now queue first, then the heap up to the new instant."""

    def __init__(self, service: TimerService) -> None:
        self.service = service
        self.now = 0.0
        self.fired: list[tuple[Hashable, float]] = []
        self.due_now: list[tuple[Hashable, int]] = []
        self.effects = EffectsInterpreter(CLOUD, self._send, service, self, self.due_now.append)

    def _send(self, to: Address, message: Message) -> None:
        raise AssertionError("nothing is sent here")

    def holds_timer(self, key: Hashable, seq: int) -> bool:
        return self.effects.holds(key, seq)

    def timer_due(self, key: Hashable, seq: int, now: float) -> None:
        if self.effects.take(key, seq):
            self.fired.append((key, now))

    def arm(self, key: Hashable, at: float) -> None:
        self.effects.apply(Effects(timers=(Timer(at, key),)), self.now)

    def cancel(self, key: Hashable) -> None:
        self.effects.apply(Effects(cancels=(key,)), self.now)

    def advance(self, by: float) -> None:
        due, self.due_now[:] = list(self.due_now), []
        for key, seq in due:
            if self.effects.take(key, seq):
                self.fired.append((key, self.now))
        self.now += by
        self.service.fire_due(self.now)
        self.service._next_deadline()  # as a driver does between instants

    def check_heap(self) -> None:
        """The stale count is exact, and no more stale entries than live ones (or than the
        threshold below which the heap is not rebuilt)."""
        heap = self.service._heap  # the entries themselves: no public view of them
        stale = sum(1 for at, seq, owner, key in heap if not owner.holds_timer(key, seq))
        assert self.service.stale == stale
        assert stale <= max(self.service.compact_above, len(heap) - stale)


class _Reference:
    """The live timers as a plain list: what fires, in which order, by the rules."""

    def __init__(self) -> None:
        self.now = 0.0
        self.live: list[tuple[float, int, Hashable, bool]] = []  # at, order, key, due now
        self.order = 0
        self.fired: list[tuple[Hashable, float]] = []

    def arm(self, key: Hashable, at: float) -> None:
        self.cancel(key)
        self.order += 1
        self.live.append((at, self.order, key, at <= self.now))

    def cancel(self, key: Hashable) -> None:
        self.live = [timer for timer in self.live if timer[2] != key]

    def advance(self, by: float) -> None:
        due_now = sorted((t for t in self.live if t[3]), key=lambda t: t[1])
        self.fired += [(key, self.now) for _, _, key, _ in due_now]
        self.now += by
        later = sorted((t for t in self.live if not t[3] and t[0] <= self.now), key=lambda t: t[:2])
        self.fired += [(key, self.now) for _, _, key, _ in later]
        self.live = [t for t in self.live if not t[3] and t[0] > self.now]


_KEYS = st.sampled_from(["push:1", "push:2", "resend:1", "ask:1", ("pair", 1), ("pair", 2)])
_OPS = st.lists(
    st.one_of(
        # moves weigh most: they make the stale entries; delays in whole seconds, so
        # ties of instants are common
        st.tuples(st.just("arm"), _KEYS, st.integers(-2, 12)),
        st.tuples(st.just("arm"), _KEYS, st.integers(-2, 12)),
        st.tuples(st.just("arm"), _KEYS, st.integers(-2, 12)),
        st.tuples(st.just("cancel"), _KEYS, st.just(0)),
        st.tuples(st.just("advance"), st.just(""), st.integers(0, 4)),
    ),
    min_size=30,
    max_size=300,
)


def _fired_orders_agree(service: TimerService, ops: list[tuple[str, Hashable, int]]) -> None:
    rig, reference = _Rig(service), _Reference()
    for op, key, amount in ops:
        if op == "arm":
            rig.arm(key, rig.now + amount)
            reference.arm(key, reference.now + amount)
        elif op == "cancel":
            rig.cancel(key)
            reference.cancel(key)
        else:
            rig.advance(float(amount))
            reference.advance(float(amount))
        rig.check_heap()
    rig.advance(100.0)  # past every deadline: all that is live fires
    reference.advance(100.0)
    rig.advance(0.0)
    reference.advance(0.0)
    assert rig.fired == reference.fired
    assert not rig.effects.armed and service.entries == 0


_SMALL = 3  # a heap this small compacts too, so short sequences exercise the rebuild


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(ops=_OPS, compact_above=st.sampled_from([0, _SMALL, 100]))
def test_compaction_never_loses_or_reorders_a_live_timer(
    ops: list[tuple[str, Hashable, int]], compact_above: int
) -> None:
    _fired_orders_agree(TimerService(compact_above=compact_above), ops)


def _moved_back_earlier(service_class: type[TimerService]) -> None:
    ops: list[tuple[str, Hashable, int]] = [("arm", "a", 10), ("arm", "b", 5)]
    ops += [("arm", "b", 6 + n % 3) for n in range(6)]  # b moved on: stale entries pile up
    ops += [("arm", "a", 1), ("arm", "b", 2), ("advance", "", 3)]  # both moved back
    _fired_orders_agree(service_class(compact_above=_SMALL), ops)


def test_a_timer_moved_back_earlier_survives_a_compaction() -> None:
    _moved_back_earlier(TimerService)


def test_the_planted_latest_deadline_compaction_is_caught() -> None:
    # planted: tests/planted/latest_deadline_compaction.py (a timer moved back is lost)
    with pytest.raises(AssertionError):
        _moved_back_earlier(LatestDeadlineCompaction)

    # Finding a sequence that loses the timer is the point; shrinking it took 10 s of CPU.
    @settings(
        database=None,
        report_multiple_bugs=False,
        max_examples=500,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    @given(ops=_OPS)
    def random_sequences(ops: list[tuple[str, Hashable, int]]) -> None:
        _fired_orders_agree(LatestDeadlineCompaction(compact_above=_SMALL), ops)

    with pytest.raises(AssertionError):
        random_sequences()


def _most_entries_moving_one_timer_10_000_times(service: TimerService) -> int:
    """One timer moved 10,000 times (a push deadline put off at every upload), beside a
    second that stays; returns the most entries the heap ever held."""
    rig = _Rig(service)
    rig.arm("stays", 1e6)
    most = 0
    for n in range(10_000):
        rig.arm("moved", 100.0 + n)
        most = max(most, service.entries)
        if n % 1000 == 999:
            rig.advance(1.0)
    rig.advance(1e7)
    assert [key for key, _ in rig.fired] == ["moved", "stays"]
    return most


def test_a_timer_moved_10_000_times_keeps_the_heap_small() -> None:
    service = TimerService()
    # 2 live timers: never more stale entries beside them than the threshold
    assert _most_entries_moving_one_timer_10_000_times(service) <= service.compact_above + 2


def test_the_planted_never_compacting_heap_is_caught() -> None:
    # planted: tests/planted/never_compacting_heap.py (the heap keeps every stale entry)
    service = NeverCompactingHeap()
    assert _most_entries_moving_one_timer_10_000_times(service) > service.compact_above + 2


class _Armer:
    """A party that arms ``count`` timers at start and does nothing else."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.fired: list[Hashable] = []

    def start(self, now: float) -> Effects:
        return Effects(timers=tuple(Timer(now + 10.0 + n, n) for n in range(self.count)))

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        return Effects()

    def timer_fired(self, key: Hashable, now: float) -> Effects:
        self.fired.append(key)
        return Effects()


def test_a_crash_counts_its_timers_stale_and_the_heap_sheds_them() -> None:
    world = World(scheduling="inline")
    crashing, staying = _Armer(300), _Armer(3)
    world.add("phone:+8613800000001", crashing)
    staying_actor: Actor = world.add("phone:+8613800000002", staying)
    for actor in world.actors.values():
        actor.prime(0.0)
    assert world.timers.entries == 303 and world.timers.stale == 0
    world.actors["phone:+8613800000001"].crash(1.0)
    assert world.timers.entries == 3 and world.timers.stale == 0  # rebuilt at once
    assert staying_actor.pending_timers == 3
    trio.run(world.run, clock=trio.testing.MockClock(autojump_threshold=0))
    assert staying.fired == [0, 1, 2] and crashing.fired == []
