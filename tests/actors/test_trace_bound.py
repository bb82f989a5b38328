"""A bounded trace writer (issue 14's leftover: a flood grew a cloud's trace by 370 MB a
minute): past ``max_bytes`` it writes one gap record, naming the first missing event's
time, and nothing more; the file never exceeds the bound."""

from __future__ import annotations

import io
import json

import pytest

from actors import (
    GAP_EVENT,
    GAP_RESERVE_BYTES,
    EventKind,
    JsonlTraceWriter,
    TraceEvent,
    TraceLimitError,
)
from protocol import CLOUD
from tests.builders import POS, catalog_upload

UPLOAD = catalog_upload("R1")


def _events(count: int) -> list[TraceEvent]:
    return [TraceEvent(float(n), EventKind.RECEIVE, POS, CLOUD, UPLOAD) for n in range(count)]


def _write(count: int, max_bytes: int | None) -> tuple[str, JsonlTraceWriter]:
    stream = io.StringIO()
    writer = JsonlTraceWriter(stream, {"process": "cloud"}, max_bytes=max_bytes)
    for event in _events(count):
        writer(event)
    return stream.getvalue(), writer


def test_a_bounded_trace_stops_with_one_gap_record_within_its_bound() -> None:
    bound = 20_000
    text, writer = _write(1_000, bound)
    lines = text.splitlines()
    records = [json.loads(line) for line in lines]
    assert len(text.encode()) <= bound
    assert len(text) == writer.written  # ASCII: characters are bytes
    *events, gap = records[1:]
    assert [r["event"] for r in events] == ["recv"] * len(events) and len(events) > 10
    assert gap == {
        "t": float(len(events)),  # the first event not written
        "event": GAP_EVENT,
        "from": POS,
        "to": CLOUD,
        "written": writer.written - len(lines[-1]) - 1,
        "max_bytes": bound,
    }
    assert writer.gap_at == float(len(events))


def test_after_the_gap_nothing_more_is_written() -> None:
    short, _ = _write(200, 20_000)
    long, _ = _write(5_000, 20_000)
    assert short == long


def test_a_trace_under_its_bound_or_unbounded_has_no_gap() -> None:
    bounded, writer = _write(10, 20_000)
    unbounded, _ = _write(10, None)
    assert bounded == unbounded and writer.gap_at is None
    assert GAP_EVENT not in {json.loads(line)["event"] for line in bounded.splitlines()[1:]}


def test_a_bound_that_cannot_hold_the_header_and_the_gap_is_refused() -> None:
    header = len(json.dumps({"format": "assocsim-trace/2", "process": "cloud"})) + 1
    with pytest.raises(TraceLimitError, match="cannot hold its header"):
        JsonlTraceWriter(io.StringIO(), {"process": "cloud"}, max_bytes=GAP_RESERVE_BYTES)
    JsonlTraceWriter(io.StringIO(), {"process": "cloud"}, max_bytes=header + GAP_RESERVE_BYTES)


def test_the_gap_record_fits_its_reserve_with_the_longest_addresses() -> None:
    longest = "p" * 200
    stream = io.StringIO()
    writer = JsonlTraceWriter(stream, {}, max_bytes=GAP_RESERVE_BYTES + 100)
    writer(TraceEvent(1e300, EventKind.NOTE, longest, longest, UPLOAD))
    assert len(stream.getvalue()) <= GAP_RESERVE_BYTES + 100
    assert json.loads(stream.getvalue().splitlines()[-1])["event"] == GAP_EVENT
