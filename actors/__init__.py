"""The trio side of assocsim: actors that drive the sans-I/O machines over a transport.

An :class:`Actor` owns one machine, one mailbox (an :class:`Endpoint` of some
:class:`Transport`) and one heap of timers. A :class:`World` wires a cloud, shops and phones
and runs them until no work is left. Observers see every send, receipt, timer and note.
"""

from ._activity import Activity
from ._actor import Actor
from ._determinism import deterministic_scheduling
from ._errors import (
    AuthenticationError,
    FaultPlanError,
    HelloRefused,
    StoreError,
    TransportError,
    UnknownAddress,
)
from ._faults import Crash, Link, NetworkConfig, Partition
from ._inline import InlineEndpoint, InlineTransport
from ._memory import MemoryEndpoint, MemoryTransport
from ._simnet import SimNetwork
from ._sqlite_store import SqliteStore
from ._tcp import (
    Authenticate,
    Backoff,
    MayRelay,
    TcpClientEndpoint,
    TcpClientTransport,
    TcpLimits,
    TcpLocalEndpoint,
    TcpServerTransport,
    TcpStats,
    connect_tcp,
    serve_tcp,
)
from ._timers import TimerOwner, TimerService
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
from ._transport import DirectEndpoint, Endpoint, Envelope, Transport
from ._world import Scheduling, World

__all__ = [
    "FAULT_KINDS",
    "TRACE_FORMAT",
    "Activity",
    "Actor",
    "Authenticate",
    "AuthenticationError",
    "Backoff",
    "Crash",
    "DirectEndpoint",
    "Endpoint",
    "Envelope",
    "EventKind",
    "FaultPlanError",
    "HelloRefused",
    "InlineEndpoint",
    "InlineTransport",
    "JsonlTraceWriter",
    "Link",
    "MayRelay",
    "MemoryEndpoint",
    "MemoryTransport",
    "NetworkConfig",
    "Observer",
    "Partition",
    "Scheduling",
    "SimNetwork",
    "SqliteStore",
    "StoreError",
    "TcpClientEndpoint",
    "TcpClientTransport",
    "TcpLimits",
    "TcpLocalEndpoint",
    "TcpServerTransport",
    "TcpStats",
    "TimerOwner",
    "TimerService",
    "TraceEvent",
    "Transport",
    "TransportError",
    "UnknownAddress",
    "World",
    "connect_tcp",
    "deterministic_scheduling",
    "fan_out",
    "read_trace",
    "serve_tcp",
]
