"""An inline world adding up the time of its MockClock itself (``World._frozen``).

A clock at rate 0 reads the sum of its jumps, so the world adds each jump to its own time
as the clock does, without asking the clock twice per instant. What must hold: every
event's time is the one ``trio.current_time()`` reads when the event is observed, across
the world's checkpoints too; a clock moved by anything else while the world runs is
refused (``TransportError``), not followed silently; a clock running with the real time
(rate > 0) is asked after each jump, as before (planted: ``tests/planted/
trusting_clock_world.py``).
"""

from __future__ import annotations

from collections.abc import Hashable

import pytest
import trio
import trio.testing

from actors import EventKind, TraceEvent, TransportError, World
from actors._world import _CHECKPOINT_EVERY
from protocol import Effects, Message, Timer
from tests.planted.trusting_clock_world import TrustingClockWorld

# Awkward instants: steps of 1/3, 0.1 and 1/7 s do not add up exactly in binary.
_STEPS = (1 / 3, 0.1, 1 / 7)


class Ticker:
    """Arms ``count`` timers one after another, each a step of ``_STEPS`` later; fired
    number ``jump_at`` (if any) moves the run's clock itself, as nothing should."""

    def __init__(self, count: int, jump_at: int | None = None) -> None:
        self.count = count
        self.jump_at = jump_at
        self.fired: list[float] = []

    def start(self, now: float) -> Effects:
        return Effects(timers=(Timer(now + _STEPS[0], 0),))

    def handle(self, message: Message, sender: str, now: float) -> Effects:
        return Effects()

    def timer_fired(self, key: Hashable, now: float) -> Effects:
        assert isinstance(key, int)
        self.fired.append(now)
        if key == self.jump_at:
            clock = trio.lowlevel.current_clock()
            assert isinstance(clock, trio.testing.MockClock)
            clock.jump(1.0)
        nxt = key + 1
        if nxt >= self.count:
            return Effects()
        return Effects(timers=(Timer(now + _STEPS[nxt % len(_STEPS)], nxt),))


def _run(
    world_type: type[World], count: int, *, rate: float = 0.0, jump_at: int | None = None
) -> tuple[Ticker, list[tuple[float, float]]]:
    """Run a Ticker in an inline world given the run's clock; each timer event's time
    and what trio's clock read when it was observed."""
    clock = trio.testing.MockClock(rate=rate)
    ticker = Ticker(count, jump_at)
    seen: list[tuple[float, float]] = []

    def observe(event: TraceEvent) -> None:
        if event.kind is EventKind.TIMER:
            seen.append((event.t, trio.current_time()))

    async def main() -> None:
        world = world_type(observer=observe, scheduling="inline", clock=clock)
        world.add("ticker", ticker)
        await world.run()

    trio.run(main, clock=clock)
    return ticker, seen


def test_every_event_at_the_time_trio_reads_across_checkpoints() -> None:
    count = _CHECKPOINT_EVERY + 300  # through one checkpoint of the world's instants
    ticker, seen = _run(World, count)
    assert len(seen) == len(ticker.fired) == count
    assert all(t == read for t, read in seen)
    assert [t for t, _ in seen] == ticker.fired


def test_a_clock_moved_by_a_step_is_refused() -> None:
    with pytest.raises(TransportError, match="moved it"):
        _run(World, 50, jump_at=10)
    with pytest.raises(TransportError, match="moved it"):  # caught at the checkpoint too
        _run(World, _CHECKPOINT_EVERY + 300, jump_at=10)


def test_a_clock_with_a_rate_is_asked_after_each_jump() -> None:
    ticker, seen = _run(World, 200, rate=1e-3)
    assert len(ticker.fired) == 200
    # real time moves such a clock too: each time is at or after its deadline, as read
    assert all(t <= read for t, read in seen)


def test_the_planted_trusting_clock_world_is_caught() -> None:
    # planted: tests/planted/trusting_clock_world.py (adds up a clock that has a rate)
    with pytest.raises(TransportError, match="moved it"):
        _run(TrustingClockWorld, 200, rate=1e-3)
