"""A planted bug: live events' records without a fired timer's key.

:func:`keyless_record_of_event` is :func:`~scenarios._trace._reader.record_of_event` that
leaves a timer's key out (``detail`` empty, as if the JSON form had no ``timer``), so a
checker observing a run no longer sees which receipt's push fell due (the cloud's
``PushDue``). A checker given the scenario's settings (as an observing one always is)
judges ``timeout-push`` by the deadline and gave the same verdicts on the built-in
scenarios with the reference and the silent cloud; without settings it judged by the
timer and differed (with the silent cloud: quickstart 130 against 131 violations,
wrong-ids 43 against 50). So the record comparison of
``tests/scenarios/test_live_records.py`` is what must catch it.
"""

from __future__ import annotations

from actors import EventKind, TraceEvent
from scenarios._trace._reader import TraceRecord, record_of_event

__all__ = ["keyless_record_of_event"]


def keyless_record_of_event(event: TraceEvent, line: int) -> TraceRecord:
    record = record_of_event(event, line)
    if event.kind is EventKind.TIMER:
        return record._replace(detail="")  # BUG: the timer's key left out
    return record
