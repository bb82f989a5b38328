"""Progress on stderr: of a long run (virtual time reached, purchases done), of a sweep.

A run shows :class:`Progress` on a terminal. A sweep shows :class:`SweepBar` on a terminal
and :class:`SweepLines` (one line per finished point) anywhere else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import IO, Protocol

from actors import EventKind, TraceEvent
from protocol import PurchaseUpload
from scenarios._model._durations import format_duration

__all__ = ["Progress", "SweepBar", "SweepLines", "SweepProgress"]

_CHECK_EVERY = 2048  # events between two looks at the wall clock


class Progress:
    """Observer that redraws one status line on ``stream`` at most every ``interval`` s.

    Quiet for runs shorter than ``interval``; call :meth:`close` at the end to clear it.
    """

    def __init__(
        self, stream: IO[str], *, purchases: int, horizon: float, interval: float = 0.5
    ) -> None:
        self._stream = stream
        self._purchases = purchases
        self._horizon = horizon
        self._interval = interval
        self._done = 0
        self._events = 0
        self._started = time.perf_counter()
        self._next_draw = self._started + interval
        self._drawn = False

    def __call__(self, event: TraceEvent) -> None:
        if event.kind is EventKind.SEND and isinstance(event.message, PurchaseUpload):
            self._done += 1
        self._events += 1
        if self._events % _CHECK_EVERY == 0:
            now = time.perf_counter()
            if now >= self._next_draw:
                self._next_draw = now + self._interval
                self._draw(event.t, now)

    def _draw(self, virtual: float, now: float) -> None:
        share = min(1.0, virtual / self._horizon) if self._horizon > 0 else 1.0
        line = (
            f"virtual time {format_duration(virtual)} of ~{format_duration(self._horizon)} "
            f"({share:.0%}), purchases {self._done}/{self._purchases}, "
            f"{now - self._started:.1f} s"
        )
        self._stream.write(f"\r{line:<79}")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\r" + " " * 79 + "\r")
            self._stream.flush()


# ------------------------------------------------------------------ sweeps


class SweepProgress(Protocol):
    """What a sweep reports while it runs (see :func:`~scenarios.run_sweep`)."""

    def start(self, points: Sequence[str], runs: int) -> None:
        """The sweep begins: one label per point (``"cloud.push_timeout=5m"``), ``runs`` in all."""

    def run_done(self, point: int, *, point_done: bool) -> None:
        """A run of ``point`` finished; ``point_done`` when it was that point's last."""

    def close(self) -> None:
        """The sweep ended (or was interrupted)."""


def _clock_text(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _SweepCounts:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.labels: Sequence[str] = ()
        self.runs = 0
        self.runs_done = 0
        self.points_done = 0
        self.started = clock()

    def start(self, points: Sequence[str], runs: int) -> None:
        self.labels, self.runs = points, runs
        self.started = self._clock()

    def run_done(self, point_done: bool) -> None:
        self.runs_done += 1
        self.points_done += point_done

    def status(self) -> str:
        elapsed = self._clock() - self.started
        rate = self.runs_done / elapsed if elapsed > 0 else 0.0
        if self.runs_done >= self.runs:
            eta = "done"
        elif rate > 0:
            eta = f"ETA {_clock_text((self.runs - self.runs_done) / rate)}"
        else:
            eta = "ETA ?"
        return f"{self.points_done}/{len(self.labels)} points, {rate:.1f} runs/s, {eta}"


class SweepBar:
    """A live bar on a terminal: ``[#####-----] 12/40 points, 3.1 runs/s, ETA 0:12``.

    Redrawn at most every ``interval`` seconds of wall time (``clock``), and once at the end,
    where it stays.
    """

    def __init__(
        self,
        stream: IO[str],
        *,
        width: int = 20,
        interval: float = 0.1,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._stream = stream
        self._width = width
        self._interval = interval
        self._clock = clock
        self._counts = _SweepCounts(clock)
        self._next_draw = 0.0
        self._drawn = False

    def start(self, points: Sequence[str], runs: int) -> None:
        self._counts.start(points, runs)
        self._draw()

    def run_done(self, point: int, *, point_done: bool) -> None:
        self._counts.run_done(point_done)
        if self._clock() >= self._next_draw or self._counts.runs_done == self._counts.runs:
            self._draw()

    def line(self) -> str:
        """The bar as it stands."""
        counts = self._counts
        share = counts.runs_done / counts.runs if counts.runs else 1.0
        filled = min(self._width, int(share * self._width))
        bar = "#" * filled + "-" * (self._width - filled)
        return f"[{bar}] {counts.status()}"

    def _draw(self) -> None:
        self._next_draw = self._clock() + self._interval
        self._stream.write(f"\r{self.line():<79}")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False


class SweepLines:
    """Plain lines for logs and pipes: one line per finished point.

    ``point 3/40 done (cloud.push_timeout=5m wrong_id_rate=0): 3/40 points, 3.1 runs/s, ...``
    """

    def __init__(self, stream: IO[str], *, clock: Callable[[], float] = time.perf_counter) -> None:
        self._stream = stream
        self._counts = _SweepCounts(clock)

    def start(self, points: Sequence[str], runs: int) -> None:
        self._counts.start(points, runs)
        self._stream.write(f"sweep: {len(points)} points, {runs} runs\n")
        self._stream.flush()

    def run_done(self, point: int, *, point_done: bool) -> None:
        self._counts.run_done(point_done)
        if point_done:
            labels = self._counts.labels
            label = labels[point] if labels[point] else "the base scenario"
            self._stream.write(
                f"point {point + 1}/{len(labels)} done ({label}): {self._counts.status()}\n"
            )
            self._stream.flush()

    def close(self) -> None:
        pass
