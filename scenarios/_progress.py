"""Progress of a long run on a terminal: virtual time reached and purchases done."""

from __future__ import annotations

import time
from typing import IO

from actors import EventKind, TraceEvent
from protocol import PurchaseUpload

from ._durations import format_duration

__all__ = ["Progress"]

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
