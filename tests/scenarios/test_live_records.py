"""A checker observing a run judges the records a trace file would give it.

``TraceChecker.__call__`` makes each live event's record with
:func:`~scenarios._trace._reader.record_of_event`, not by building the event's JSON form
and parsing it (``parse_event(event.to_json())``): half of such a checker's time. The two
must give the same record for every event, or a run judged live and its trace file judged
by ``assocsim check`` could disagree. Here they are compared on every event of runs that
hold every event kind a simulation makes, and on hand-made events for what runs do not
make (a send the transport refused, a note without a phone). The planted
``tests/planted/keyless_live_records.py`` (a fired timer's key left out) is caught.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from actors import EventKind, TraceEvent
from protocol import Note, PurchaseUpload
from scenarios import CloudFactory, Scenario, check_events, check_trace, load_scenario, run_scenario
from scenarios._trace._checks import TraceChecker
from scenarios._trace._reader import TraceError, TraceRecord, parse_event, record_of_event
from tests.planted.dropped_dual_send import dropped_dual_send_cloud
from tests.planted.keyless_live_records import keyless_record_of_event
from tests.scenarios.test_client_crash import SCENARIO as CLIENT_CRASHES

RecordOf = Callable[[TraceEvent, int], TraceRecord]


def _run(scenario: Scenario, cloud: CloudFactory | None = None) -> list[TraceEvent]:
    events: list[TraceEvent] = []
    run_scenario(scenario, cloud=cloud, observers=[events.append])
    return events


@pytest.fixture(scope="module")
def run_events() -> list[TraceEvent]:
    # faults: loss, duplication, reordering, partitions, a cloud crash; the client
    # crashes: every phone and POS crashing and restarting
    return _run(load_scenario("faults")) + _run(CLIENT_CRASHES)


def _hand_made(run_events: list[TraceEvent]) -> list[TraceEvent]:
    upload = next(e.message for e in run_events if isinstance(e.message, PurchaseUpload))
    cloud, pos = "cloud", "pos:shop-01"
    return [
        TraceEvent(1.0, EventKind.SEND_FAILED, pos, cloud, upload, detail="connection lost"),
        TraceEvent(1.5, EventKind.DROP, pos, cloud, upload),  # a drop that names no fault
        TraceEvent(2.0, EventKind.NOTE, cloud, cloud, note=Note("push-withheld", "r-1")),
        TraceEvent(2.5, EventKind.NOTE, cloud, cloud, note=Note("gave-up", None, "+86138")),
        TraceEvent(3.0, EventKind.TIMER, cloud, cloud, detail=("push", "shop-01", "r-1")),
        TraceEvent(4.0, EventKind.CRASH, cloud, cloud),
        TraceEvent(5.0, EventKind.RESTART, cloud, cloud),
        TraceEvent(6.0, EventKind.PARTITION, "network", "network", detail="start"),
    ]


def _differences(events: Iterable[TraceEvent], record_of: RecordOf) -> list[str]:
    return [
        f"{event!r}: {made!r} != {parsed!r}"
        for line, event in enumerate(events, 1)
        if (made := record_of(event, line)) != (parsed := parse_event(event.to_json(), line))
    ]


def test_the_runs_hold_every_event_kind_a_simulation_makes(run_events: list[TraceEvent]) -> None:
    kinds = {event.kind for event in run_events}
    assert kinds == set(EventKind) - {EventKind.SEND_FAILED}  # hand-made below


def test_every_live_event_gives_the_record_its_json_form_gives(
    run_events: list[TraceEvent],
) -> None:
    assert _differences(run_events, record_of_event) == []
    assert _differences(_hand_made(run_events), record_of_event) == []


def _outcome(make: Callable[[Any, int], TraceRecord], given: Any, line: int) -> TraceRecord | None:
    """The record made, or None if it was refused (each way words it its own way)."""
    try:
        return make(given, line)
    except TraceError:
        return None


def test_every_shape_of_event_gives_the_same_record_or_is_refused_both_ways(
    run_events: list[TraceEvent],
) -> None:
    # every kind with or without a message, a note and a detail of each type; a time
    # that is not finite: parse_event refuses some of these (no actor makes them)
    upload = next(e.message for e in run_events if isinstance(e.message, PurchaseUpload))
    notes = (None, Note("shown", "r-1", "+8613800000001", "timeout", "shop-01"), Note("x"))
    details: tuple[object, ...] = (None, "loss", 3, ("push", "r-1"), "")
    shapes = [
        TraceEvent(t, kind, "cloud", "phone:+8613800000001", message, note, detail)
        for t in (1.0, math.inf, math.nan)
        for kind in EventKind
        for message in (None, upload)
        for note in notes
        for detail in details
    ]
    refused = 0
    for line, event in enumerate(shapes, 1):
        made = _outcome(record_of_event, event, line)
        assert made == _outcome(parse_event, event.to_json(), line), event
        refused += made is None
    assert 0 < refused < len(shapes)  # both outcomes met


def test_a_record_without_the_timers_key_is_caught(run_events: list[TraceEvent]) -> None:
    assert _differences(run_events, keyless_record_of_event)


@pytest.mark.parametrize("cloud", [None, dropped_dual_send_cloud], ids=["reference", "planted"])
def test_the_observing_checker_judges_as_the_trace_of_its_run(
    cloud: CloudFactory | None,
) -> None:
    scenario = load_scenario("faults")
    events = _run(scenario, cloud)
    observed = TraceChecker(scenario)
    for event in events:
        observed(event)
    from_json = check_trace([event.to_json() for event in events], settings=scenario)
    assert observed.result() == from_json == check_events(events, settings=scenario)
    assert from_json.ok is (cloud is None)  # the planted cloud's violations found both ways
