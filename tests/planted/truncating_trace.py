"""A planted bug: a field process's trace opened by truncating the file, as it was.

``serve cloud``, ``pos`` and ``phone`` opened ``--trace FILE`` with ``O_TRUNC``: a process
started again on its trace (after a kill -9, by the same command) erased the record of
everything before, and ``assocsim check`` judged half a run. :func:`open_truncating_trace`
is :func:`scenarios._field._common.open_trace` with that opening;
``tests/scenarios/test_field_trace_restart.py`` must catch it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from actors import JsonlTraceWriter, Observer

__all__ = ["open_truncating_trace"]


def open_truncating_trace(
    path: Path, header: dict[str, Any], *, max_bytes: int | None = None
) -> tuple[IO[str] | None, Observer | None]:
    """The trace at ``path``, truncated (BUG: an earlier trace there is lost)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    file = os.fdopen(descriptor, "w", encoding="utf-8")
    return file, JsonlTraceWriter(file, header, max_bytes=max_bytes)
