"""Planted bug for the reader's cut last line (tests/scenarios/test_trace_cut_line.py): a
trace reader that drops a last line without its line ending, as a script reading a killed
process's trace might (``if not line.endswith("}"): continue``), so a checker reading
through it judges a trace whose writer was killed mid-line as if it were whole."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def drop_cut_line(self: Any) -> Iterator[tuple[int, str]]:
    """``TraceReader.lines`` passing over a last line that has no line ending."""
    while (text := self._next_line()) is not None:
        if not text.endswith("\n"):
            return  # the bug: the cut is not told
        yield self.line, text
