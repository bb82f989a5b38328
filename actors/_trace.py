"""What happened in a run, as a stream of :class:`TraceEvent` values.

Actors report every message they send and receive, every timer that fires and every note
their machine makes to an :class:`Observer`. Reports, checkers and the JSON-lines trace
file are all observers, so they see the same history whatever the transport.
:class:`JsonlTraceWriter` writes the trace format (``docs/trace-format.md``); its one
reader is ``scenarios/_trace/_reader.py``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable
from typing import IO, Any, NamedTuple

from protocol import (
    Address,
    AssocsimError,
    ErrorReply,
    Message,
    Note,
    encode_message,
    message_type,
)
from protocol.lowlevel import pos_of

__all__ = [
    "CRASH_BETWEEN_STEPS",
    "CRASH_INSIDE_STEP",
    "CRASH_POINTS",
    "FAULT_KINDS",
    "GAP_EVENT",
    "GAP_RESERVE_BYTES",
    "TRACE_FORMAT",
    "EventKind",
    "JsonlTraceWriter",
    "Observer",
    "TraceEvent",
    "TraceLimitError",
    "fan_out",
    "receipt_key",
]

TRACE_FORMAT = "assocsim-trace/2"

GAP_EVENT = "gap"
"""The ``event`` of the record a bounded writer writes last, when its bound is reached:
every event after it is missing (``docs/trace-format.md``, *The gap record*)."""

GAP_RESERVE_BYTES = 1024
"""Room kept for the gap record below a writer's ``max_bytes`` (the record names two
addresses of at most 200 characters and three numbers: under 600 bytes)."""


class TraceLimitError(AssocsimError, ValueError):
    """A trace writer's byte bound is too small to hold its header and the gap record."""


class EventKind(enum.StrEnum):
    SEND = "send"  # an actor handed a message to its transport
    RECEIVE = "recv"  # an actor took a message from its mailbox and handled it
    TIMER = "timer"  # a timer an actor's machine armed fired
    NOTE = "note"  # a machine recorded a decision no message shows
    SEND_FAILED = "send-failed"  # the transport refused the message
    # Faults, injected by a simulated network or a scenario's crash schedule:
    DROP = "drop"  # a message lost (detail: "loss", "partition" or "down")
    DUPLICATE = "dup"  # the network made one extra copy of a message
    DELAY = "delay"  # the network held a message back past later ones (reordering)
    CRASH = "crash"  # the actor crashed: its timers and mailbox are gone (detail: its point)
    RESTART = "restart"  # the actor restarted from what it keeps durably
    PARTITION = "partition"  # a partition between two groups began or ended (detail)


FAULT_KINDS = frozenset(
    {
        EventKind.DROP,
        EventKind.DUPLICATE,
        EventKind.DELAY,
        EventKind.CRASH,
        EventKind.RESTART,
        EventKind.PARTITION,
    }
)
"""The event kinds that record an injected fault rather than the protocol's own work."""

# Where a simulated crash fell (a ``crash`` event's detail, its JSON ``point``): between
# two steps, when every step taken was committed, or inside a step, killed after a store
# write, its transaction never committed. A judge of lost deliveries needs it: only a kill
# inside a step can lose the message that step took (docs/trace-format.md).
CRASH_BETWEEN_STEPS = "between-steps"
CRASH_INSIDE_STEP = "inside-step"
CRASH_POINTS = frozenset({CRASH_BETWEEN_STEPS, CRASH_INSIDE_STEP})


class TraceEvent(NamedTuple):
    """One event at virtual time ``t``. ``sender``/``recipient`` are both the actor for
    timers and notes. A named tuple: one is built per event, so it must be cheap."""

    t: float
    kind: EventKind
    sender: Address
    recipient: Address
    message: Message | None = None
    note: Note | None = None
    detail: object = None  # the timer's key, why a send failed, or which fault

    @property
    def receipt_id(self) -> str | None:
        if self.message is not None:
            receipt: str | None = getattr(self.message, "receipt_id", None)
            return receipt
        if self.note is not None:
            return self.note.receipt_id
        return None

    @property
    def receipt(self) -> str | None:
        """The receipt the event names, as ``MERCHANT/RECEIPT`` (:func:`receipt_key`)."""
        message, note = self.message, self.note
        if message is not None:
            receipt_id: str | None = getattr(message, "receipt_id", None)
            if receipt_id is None:
                return None
            merchant: str | None = getattr(message, "merchant_id", None)
            if merchant is not None:  # the common case, inline: once per traced message
                return f"{merchant}/{receipt_id}"
            if isinstance(message, ErrorReply):
                # A refusal that names no merchant (one of the framing, which could not
                # read it): a POS's is its own merchant's receipt.
                pos = pos_of(self.recipient) or pos_of(self.sender)
                merchant = None if pos is None else pos[0]
            return receipt_key(merchant, receipt_id)
        if note is not None and note.receipt_id is not None:
            merchant = note.merchant_id
            if merchant is None:
                pos = pos_of(self.sender)
                merchant = None if pos is None else pos[0]
            return receipt_key(merchant, note.receipt_id)
        return None

    def to_json(self) -> dict[str, Any]:
        """The JSON-lines form: t, event, from, to, type, receipt, then the details."""
        out: dict[str, Any] = {
            "t": self.t,
            "event": str(self.kind),
            "from": self.sender,
            "to": self.recipient,
        }
        if self.message is not None:
            out["type"] = message_type(self.message)
            out["receipt"] = self.receipt
            out["msg"] = encode_message(self.message)["body"]
            if self.detail is not None:
                out["fault" if self.kind in FAULT_KINDS else "error"] = str(self.detail)
        elif self.kind is EventKind.PARTITION:
            out["phase"] = str(self.detail)
        elif self.kind in FAULT_KINDS:
            # a crash or restart: the actor is in "from" and "to"; a crash, where it fell
            if self.detail is not None:
                out["point"] = str(self.detail)
        elif self.note is not None:
            out["type"] = str(self.note.kind)
            out["receipt"] = self.receipt
            out["phone"] = self.note.phone_id
            out["detail"] = self.note.detail
        elif self.detail is not None:
            out["type"] = "timer"
            out["timer"] = repr(self.detail)
        return out


def receipt_key(merchant_id: str | None, receipt_id: str) -> str:
    """How the trace names a receipt: ``MERCHANT/RECEIPT``, since receipt ids are unique
    within a merchant only (ids never contain ``/``); the bare id if no merchant is known
    (a refusal to a phone, which its ``request_id`` pairs with its request)."""
    return receipt_id if merchant_id is None else f"{merchant_id}/{receipt_id}"


Observer = Callable[[TraceEvent], None]
"""Anything that wants to see the events of a run."""


def fan_out(observers: Iterable[Observer]) -> Observer:
    """One observer that passes every event to each of ``observers`` in order."""
    targets = tuple(observers)
    if len(targets) == 1:
        return targets[0]

    def observe(event: TraceEvent) -> None:
        for target in targets:
            target(event)

    return observe


class JsonlTraceWriter:
    """An observer writing a header line and then one JSON object per event.

    The header is ``{"format": "assocsim-trace/2", ...}`` with whatever the caller puts in
    it (the scenario and seed, so a trace says how to reproduce it).

    Bounded: it keeps nothing itself; each line goes to ``stream`` at once, so the memory a
    trace holds is the stream's buffer (64 KiB for the field processes' files). When that
    is full, the write to disk happens in the producer's own call: a producer faster than
    the disk is slowed to the disk's pace (the cloud's steps, and through its bounded
    mailbox its connections), never followed by a growing queue, and never answered by
    dropping events silently.

    ``max_bytes`` (None: no bound) bounds the file (issue 14: a flood grew a cloud's trace
    by 370 MB a minute). When the next line would leave less than
    :data:`GAP_RESERVE_BYTES` below it, the writer writes one last record,
    ``{"t": T, "event": "gap", "from", "to", "written": BYTES, "max_bytes": N}`` (``T``,
    ``from`` and ``to`` are the first missing event's), and writes nothing more. The trace
    reader refuses to treat such a trace as whole: ``assocsim check`` and ``find`` say it
    is incomplete from ``T``, never all clear. The lines are ASCII (JSON escapes the rest),
    so characters are bytes.
    """

    def __init__(
        self, stream: IO[str], header: dict[str, Any], *, max_bytes: int | None = None
    ) -> None:
        self._stream = stream
        self._dumps = json.JSONEncoder(separators=(",", ":"), sort_keys=False).encode
        first = self._dumps({"format": TRACE_FORMAT, **header}) + "\n"
        if max_bytes is not None and len(first) + GAP_RESERVE_BYTES > max_bytes:
            raise TraceLimitError(
                f"a trace bound of {max_bytes} bytes cannot hold its header "
                f"({len(first)} bytes) and the gap record ({GAP_RESERVE_BYTES} bytes kept)"
            )
        self.max_bytes = max_bytes
        self._room = None if max_bytes is None else max_bytes - GAP_RESERVE_BYTES
        stream.write(first)
        self.written = len(first)
        self.gap_at: float | None = None  # the time of the first event not written

    def __call__(self, event: TraceEvent) -> None:
        room = self._room
        if room is not None and room < 0:
            return  # stopped at the gap
        line = self._dumps(event.to_json()) + "\n"
        if room is not None and self.written + len(line) > room:
            self._stop(event)
            return
        self._stream.write(line)
        self.written += len(line)

    def _stop(self, event: TraceEvent) -> None:
        """Write the gap record and stop."""
        self.gap_at = event.t
        gap = {
            "t": event.t,
            "event": GAP_EVENT,
            "from": event.sender,
            "to": event.recipient,
            "written": self.written,
            "max_bytes": self.max_bytes,
        }
        line = self._dumps(gap) + "\n"
        self._stream.write(line)
        self.written += len(line)
        self._room = -1  # stopped: every later event is dropped at once
