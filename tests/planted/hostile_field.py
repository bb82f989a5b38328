"""Planted bugs for tests/scenarios/test_field_hostile.py: each is what the field processes
did before issue 14 (or a plausible way back to it), and each test must fail with it.

* :class:`CatchUpFirstDriver`: every fired timer before any message, as the one inbox
  did after a restart (new uploads waited behind the whole catch-up).
* :func:`open_hoarding_trace`: a trace writer that keeps every line until it is closed.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, Any

from actors import JsonlTraceWriter, Observer, TraceEvent
from scenarios._field._common import CloudDriver, _Work


class CatchUpFirstDriver(CloudDriver):
    """Takes every fired timer before any message."""

    def _take(self) -> list[_Work]:
        work: list[_Work] = []
        while self._due and len(work) < self.batch:
            item = self._due.popleft()
            if self._effects.take(item.key, item.seq):
                work.append(item)
        while not self._due and len(work) < self.batch and (envelope := self._next_message()):
            work.append(_Work("message", envelope))
        self._room.set()
        return work


class _Hoard(io.StringIO):
    """A text stream that keeps everything written until it is closed."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path

    def close(self) -> None:
        if not self.closed:
            self._path.write_text(self.getvalue(), encoding="utf-8")
        super().close()


def open_hoarding_trace(path: Path, header: dict[str, Any]) -> tuple[IO[str], Observer]:
    stream = _Hoard(path)
    writer = JsonlTraceWriter(stream, header)

    def write(event: TraceEvent) -> None:
        writer(event)

    return stream, write
