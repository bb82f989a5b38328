"""The one reader of the trace format (``docs/trace-format.md``): files, records, events.

``actors.JsonlTraceWriter`` (``actors/_trace.py``) writes a trace; everything that reads
one reads it here: the invariants' checker, the diagram, replay, the merge of a field
trial's traces and the report of a ``run --transport tcp``.

* :class:`TraceReader` opens a file: its header (:func:`validate_header`), then its lines,
  records or validated events, every problem a :class:`TraceError` naming file and line.
* :func:`parse_event` validates one record into a :class:`TraceRecord`, the fields the
  tools read; :func:`record_of_event` makes the same record from a live event, without
  the JSON form (a checker observing a run: ``TraceChecker.__call__``).
* :func:`merge_traces` merges several files by time; :func:`events_from_records` turns
  records back into :class:`~actors.TraceEvent` values, as a live run gives them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final, NamedTuple

from actors import CRASH_POINTS, FAULT_KINDS, GAP_EVENT, TRACE_FORMAT, EventKind, TraceEvent
from protocol import (
    MESSAGE_TYPES,
    WIRE_VERSION,
    Note,
    RemoteProtocolError,
    decode_message,
    encode_message,
    message_type,
)
from scenarios._model._errors import ScenarioError

__all__ = [
    "KNOWN_MESSAGE_TYPES",
    "MESSAGE_EVENTS",
    "OTHER_EVENTS",
    "TraceError",
    "TraceIncomplete",
    "TraceReader",
    "TraceRecord",
    "cut_run",
    "events_from_records",
    "merge_traces",
    "parse_event",
    "record_of_event",
    "untraced",
    "validate_header",
]

MESSAGE_EVENTS: Final = frozenset({"send", "recv", "send-failed", "drop", "dup", "delay"})
"""The event kinds that carry a message (its ``type`` and body ``msg``)."""

OTHER_EVENTS: Final = frozenset(EventKind) - MESSAGE_EVENTS
"""The format's other event kinds (timer, note, crash, restart, partition). A kind in
neither set is refused: the checkers skip what they do not know, so a trace of unknown
kinds (another writer's, a misspelt one) was judged as having no events, all clear."""

KNOWN_MESSAGE_TYPES: Final = frozenset(MESSAGE_TYPES)
"""The message types a message event may carry, refused otherwise for the same reason."""


class TraceError(ScenarioError):
    """A trace cannot be read: a missing file, not an assocsim trace, or a bad line."""


class TraceIncomplete(TraceError):
    """The trace has a gap record: its writer reached its byte bound at virtual time ``t``
    and wrote nothing after, so no tool may judge it whole (``docs/trace-format.md``); or
    its last line is cut (its writer stopped mid-line): ``t`` is NaN then."""

    def __init__(self, message: str, t: float) -> None:
        super().__init__(message)
        self.t = t


class TraceRecord(NamedTuple):
    """One trace record, validated: the fields the tools read."""

    line: int
    t: float
    kind: str
    frm: str
    to: str
    type: str
    receipt: str | None
    msg: Mapping[str, Any]
    phone: str | None
    detail: str


_NO_MSG: Mapping[str, Any] = {}


def _is_object(value: object) -> bool:
    return type(value) is dict or isinstance(value, Mapping)  # dict first: the ABC is slow


def parse_event(record: Mapping[str, Any], line: int) -> TraceRecord:
    """The validated form of one event record; :class:`TraceError` names what is wrong.

    ``detail`` is a note's detail, a timer's key (its ``repr``), a drop's fault (``loss``,
    ``partition`` or ``down``), a partition's phase (``start`` or ``end``) or where a crash
    fell (``between-steps``, ``inside-step``, or empty: not said)."""
    if not _is_object(record):
        raise TraceError(f"line {line}: expected a JSON object, got {type(record).__name__}")
    get = record.get
    kind, t, frm, to = get("event"), get("t"), get("from"), get("to")
    if type(kind) is not str:
        raise TraceError(f"line {line}: no 'event' kind (is this an assocsim trace?)")
    if (type(t) is not float and (isinstance(t, bool) or not isinstance(t, int))) or not (
        math.isfinite(t)
    ):
        raise TraceError(f"line {line}: 't' must be a finite number of seconds, got {t!r}")
    if type(frm) is not str or type(to) is not str:
        raise TraceError(f"line {line}: 'from' and 'to' must be addresses (text)")
    kind_type, receipt, msg = get("type"), get("receipt"), get("msg", _NO_MSG)
    if receipt is not None and type(receipt) is not str:
        raise TraceError(f"line {line}: 'receipt' must be text or null, got {receipt!r}")
    is_object = _is_object(msg)
    if kind in MESSAGE_EVENTS:
        if type(kind_type) is not str:
            raise TraceError(f"line {line}: a {kind} event needs the message 'type'")
        if kind_type not in KNOWN_MESSAGE_TYPES:
            raise TraceError(
                f"line {line}: unknown message type {kind_type!r} (not one of this "
                "trace format's, so no invariant could judge it)"
            )
        if not is_object:
            raise TraceError(f"line {line}: 'msg' must be the message body (an object)")
    elif kind not in OTHER_EVENTS:
        raise TraceError(
            f"line {line}: unknown event kind {kind!r} (not one of this trace format's, "
            "so no invariant could judge it)"
        )
    phone = get("phone")
    if kind == "timer":
        detail = get("timer", "")
    elif kind == "drop":
        detail = get("fault", "")
    elif kind == "partition":
        detail = get("phase", "")
    elif kind == "crash":
        # absent in a trace written before crashes said where they fell
        detail = _crash_point(record["point"], line) if "point" in record else ""
    else:
        detail = get("detail", "")
    return TraceRecord(
        line,
        float(t),
        kind,
        frm,
        to,
        kind_type if type(kind_type) is str else "",
        receipt,
        msg if is_object else _NO_MSG,
        phone if type(phone) is str else None,
        detail if type(detail) is str else str(detail),
    )


def _crash_point(point: object, line: int) -> str:
    """A crash's ``point``, or :class:`TraceError`: a point no judge knows would be read
    as one not said (a kill that may have lost its step's message)."""
    if type(point) is not str or point not in CRASH_POINTS:
        raise TraceError(
            f"line {line}: a crash's 'point' must be one of "
            f"{', '.join(sorted(CRASH_POINTS))}, got {point!r}"
        )
    return point


def record_of_event(event: TraceEvent, line: int) -> TraceRecord:
    """``parse_event(event.to_json(), line)`` without the JSON form: the record a live
    event makes, or the same :class:`TraceError`, for a checker that observes a run
    (``check_events`` took 0.68-0.90x the CPU of checking the JSON forms on ``faults``).
    Only the message body is encoded; ``tests/scenarios/test_live_records.py`` holds it
    equal to the parsed form for every event of runs with every kind of event and for
    every shape of event, refused or not."""
    kind, message, note, detail = event.kind, event.message, event.note, event.detail
    # what parse_event refuses of the JSON form, refused here too (no actor makes it)
    if message is None and kind in MESSAGE_EVENTS:
        raise TraceError(f"line {line}: a {kind} event needs the message 'type'")
    if not math.isfinite(event.t):
        raise TraceError(f"line {line}: 't' must be a finite number of seconds, got {event.t!r}")
    typ, receipt, msg, phone, said = "", None, _NO_MSG, None, ""
    if message is not None:
        typ, receipt, msg = message_type(message), event.receipt, encode_message(message)["body"]
        # the JSON form names a dropped message's fault "fault" (read), another event's
        # detail "fault" or "error" (not read: parse_event reads "detail")
        if kind is EventKind.DROP and detail is not None:
            said = str(detail)
    elif kind is EventKind.PARTITION:
        said = str(detail)
    elif kind in FAULT_KINDS:
        # a crash or restart: the actor in "from" and "to"; a crash, where it fell
        if kind is EventKind.CRASH and detail is not None:
            said = _crash_point(detail, line)
    elif note is not None:
        typ, receipt, phone = str(note.kind), event.receipt, note.phone_id
        if type(phone) is not str:
            phone = None
        if kind is not EventKind.TIMER:
            said = note.detail if type(note.detail) is str else str(note.detail)
    elif detail is not None:
        typ = "timer"  # its key's repr, as the JSON form's "timer"
        if kind is EventKind.TIMER:
            said = repr(detail)
    return TraceRecord(
        line,
        float(event.t),
        str(kind),
        event.sender,
        event.recipient,
        typ,
        receipt,
        msg,
        phone,
        said,
    )


def validate_header(record: object, where: str) -> dict[str, Any]:
    """The header record of a trace, or :class:`TraceError` saying why it is not one."""
    if not isinstance(record, dict) or "format" not in record:
        raise TraceError(
            f"{where}: not an assocsim trace (line 1 has no 'format' header; "
            "write one with assocsim run --trace FILE.jsonl)"
        )
    if record["format"] not in READABLE_FORMATS:
        raise TraceError(
            f"{where}: trace format {record['format']!r} is not {TRACE_FORMAT!r}, "
            "the one this version reads"
        )
    return record


READABLE_FORMATS = frozenset({TRACE_FORMAT, "assocsim-trace/1"})
"""The formats the tools read. Version 1 named a receipt by its id alone (one namespace
for every merchant): its receipts are keyed by that id, consistently within the trace."""


def cut_run(header: Mapping[str, Any], receipts: int) -> str | None:
    """Why the trace of an ``assocsim run`` (its header has the run's ``scheduling``) is
    cut short: it names fewer receipts than the purchases its settings plan, each of which
    the run's POSes upload whatever the faults; None if it is not, or not a run's trace.

    A run's trace has no gap record (its writer is unbounded), so a run killed early, or a
    file cut by hand, has only this to tell it: cut before its first purchase it broke no
    promise yet, and ``check`` judged it all clear (``find``: nothing found). ``receipts``
    is how many the trace names (in any event)."""
    if "scheduling" not in header or any(k in header for k in ("process", "merged", "explore")):
        return None  # a field process, a merge of them, explore's: their receipts are not planned
    settings = header.get("settings")
    planned = settings.get("purchases") if isinstance(settings, Mapping) else None
    if type(planned) is not int or receipts >= planned:
        return None
    return (
        f"the trace names {receipts} of the {planned} receipts its run rang up (settings: "
        f"purchases {planned}): it stops before its run's end, so it cannot be judged whole "
        "(its end's verdicts, a delivery lost, may be the cut's)"
    )


class TraceReader:
    """A trace file opened for reading: its header, then its records one by one.

    Every problem (missing file, not UTF-8, bad JSON, not a trace) is a
    :class:`TraceError` naming the file and the line. Use it as a context manager.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file = self.path.open(encoding="utf-8")
        except OSError as exc:
            raise TraceError(f"cannot read trace {self.path}: {exc.strerror}") from None
        self.line = 0
        self.header_text = ""
        try:
            first = self._next_line()
            if first is None:
                raise TraceError(f"{self.path}: empty file, not an assocsim trace")
            self.header_text = first
            self.header = validate_header(self._parse(first), str(self.path))
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> TraceReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def _next_line(self) -> str | None:
        while True:
            try:
                text = self._file.readline()
            except UnicodeDecodeError:
                raise TraceError(
                    f"{self.path}: line {self.line + 1}: not UTF-8 text, not an assocsim trace"
                ) from None
            except OSError as exc:
                raise TraceError(f"cannot read trace {self.path}: {exc.strerror}") from None
            if not text:
                return None
            self.line += 1
            if text.strip():
                return text

    def _parse(self, text: str) -> Any:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
        if not text.endswith("\n"):  # the file's last line, and no whole record: cut
            self._refuse_cut_line()
        try:  # again without the line ending, for the error's column
            return json.loads(text.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            raise TraceError(
                f"{self.path}: line {self.line}: not valid JSON ({exc.msg}, column {exc.colno})"
            ) from None

    def lines(self) -> Iterator[tuple[int, str]]:
        """The event lines after the header, as text, with their line numbers.

        Raises :class:`TraceIncomplete` at a gap record, after the lines before it: every
        tool reads through here, so none takes a cut trace for a whole one."""
        while (text := self._next_line()) is not None:
            if '"gap"' in text:  # rare: parse to tell a gap record from a product "gap"
                self._refuse_gap(self._parse(text))
            yield self.line, text

    def _refuse_gap(self, record: object) -> None:
        if not isinstance(record, dict) or record.get("event") != GAP_EVENT:
            return
        t = record.get("t")
        when = f"t={t}" if isinstance(t, int | float) else "an unknown time"
        bound = record.get("max_bytes")
        raise TraceIncomplete(
            f"{self.path}: line {self.line}: the trace is incomplete from {when}: its writer "
            f"reached its bound of {bound} bytes (--trace-max-bytes) and wrote no "
            "event after it, so it cannot be judged whole",
            float(t) if isinstance(t, int | float) else math.nan,
        )

    def _refuse_cut_line(self) -> None:
        """A writer stopped in the middle of a line, e.g. a process killed (``kill -9``)
        while its buffer went to disk, leaves a last line without its end: the events
        after it are missing, so the trace is incomplete there, like one with a gap."""
        raise TraceIncomplete(
            f"{self.path}: line {self.line}: the trace is incomplete from its last line: "
            "the line is cut (no line ending, not a whole JSON record), as a writer "
            "stopped mid-line leaves it (a killed process), so it cannot be judged whole",
            math.nan,
        )

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """The event records after the header, parsed, with their line numbers."""
        for line, text in self.lines():
            record = self._parse(text)
            if not isinstance(record, dict):
                raise TraceError(f"{self.path}: line {line}: expected a JSON object")
            yield line, record

    def events(self) -> Iterator[TraceRecord]:
        """The event records, validated (:class:`TraceError` names the file and line)."""
        for line, record in self.records():
            try:
                yield parse_event(record, line)
            except TraceError as exc:
                raise TraceError(f"{self.path}: {exc}") from None


_OWN_EVENTS: Final = frozenset({"send", "send-failed", "timer", "note"})
"""The event kinds a process writes of its own actors' (``from``), beside ``recv`` (``to``)."""


def untraced(heard: Mapping[str, object], own: set[str]) -> list[str]:
    """The actors some trace received a message from that have no event of their own in
    any trace: their process's trace is missing from a merge (sorted)."""
    return sorted(actor for actor in heard if actor not in own)


def merge_traces(paths: Sequence[Path]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the events of several traces, merged by time.

    Events keep their file's order among equal times; the header is the cloud's (the one
    with the cloud's settings), else the first file's, with ``merged`` listing the files.
    Raises :class:`~scenarios.TraceError` naming a file that cannot be read, and, merging
    two or more, when an actor whose messages a trace received has no event of its own
    in any: its process's trace was left out, and what only it records (a POS receiving
    its upload's acknowledgement) would be judged by nothing, silently (a field trial's
    cloud and phones merged without the POS passed ``check``).
    """
    headers: list[dict[str, Any]] = []
    keyed: list[tuple[float, int, int, dict[str, Any]]] = []
    own: set[str] = set()  # the actors with an event of their own in some trace
    heard: dict[str, Path] = {}  # an actor whose message was received -> the first trace saying so
    for index, path in enumerate(paths):
        with TraceReader(path) as reader:
            headers.append(reader.header)
            for line, record in reader.records():
                try:
                    ev = parse_event(record, line)
                except TraceError as exc:
                    raise TraceError(f"{path}: {exc}") from None
                if ev.kind == "recv":
                    own.add(ev.to)
                    heard.setdefault(ev.frm, path)
                elif ev.kind in _OWN_EVENTS:
                    own.add(ev.frm)
                keyed.append((ev.t, index, line, record))
    if len(paths) > 1:
        absent = untraced(heard, own)
        if absent:
            first = absent[0]
            others = ", ".join(absent[1:4]) + ", ..." * (len(absent) > 4)
            more = f" (nor {len(absent) - 1} more: {others})" * (len(absent) > 1)
            raise TraceError(
                f"{heard[first]}: {first} sent messages received here, but none of the traces "
                f"given holds an event of its own{more}: give its process's trace too "
                "(without it, what only it records, e.g. a POS receiving its upload's "
                "acknowledgement, is judged by nothing)"
            )
    keyed.sort(key=lambda entry: entry[:3])
    header = next((h for h in headers if h.get("process") == "cloud"), headers[0])
    header = {**header, "merged": [str(path) for path in paths]}
    return header, [record for *_, record in keyed]


def events_from_records(records: Iterable[Mapping[str, Any]]) -> Iterable[TraceEvent]:
    """Trace records (JSON) back into :class:`~actors.TraceEvent` values."""
    for record in records:
        kind = EventKind(record["event"])
        message = None
        type_ = record.get("type")
        if "msg" in record and type_ in MESSAGE_TYPES:
            try:
                message = decode_message({"v": WIRE_VERSION, "type": type_, "body": record["msg"]})
            except RemoteProtocolError as exc:
                raise ScenarioError(f"a trace's {type_} does not decode: {exc}") from None
        note = None
        if kind is EventKind.NOTE:
            note = Note(str(type_), record.get("receipt"), record.get("phone"), record["detail"])
        detail = next(
            (record[k] for k in ("fault", "error", "timer", "phase", "point") if k in record),
            None,
        )
        yield TraceEvent(record["t"], kind, record["from"], record["to"], message, note, detail)
