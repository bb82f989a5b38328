"""The trio side of assocsim: actors that drive the sans-I/O machines over a transport.

An :class:`Actor` owns one machine, one mailbox (an :class:`Endpoint` of some
:class:`Transport`) and one heap of timers. A :class:`World` wires a cloud, shops and phones
and runs them until no work is left. Observers see every send, receipt, timer and note.
"""

from ._activity import Activity
from ._actor import Actor
from ._determinism import deterministic_scheduling
from ._errors import TransportError, UnknownAddress
from ._inline import InlineEndpoint, InlineTransport
from ._memory import MemoryEndpoint, MemoryTransport
from ._timers import TimerService
from ._trace import (
    FAULT_KINDS,
    TRACE_FORMAT,
    EventKind,
    JsonlTraceWriter,
    Observer,
    TraceEvent,
    fan_out,
    read_trace,
)
from ._transport import Endpoint, Envelope, Transport
from ._world import Scheduling, World

__all__ = [
    "FAULT_KINDS",
    "TRACE_FORMAT",
    "Activity",
    "Actor",
    "Endpoint",
    "Envelope",
    "EventKind",
    "InlineEndpoint",
    "InlineTransport",
    "JsonlTraceWriter",
    "MemoryEndpoint",
    "MemoryTransport",
    "Observer",
    "Scheduling",
    "TimerService",
    "TraceEvent",
    "Transport",
    "TransportError",
    "UnknownAddress",
    "World",
    "deterministic_scheduling",
    "fan_out",
    "read_trace",
]
