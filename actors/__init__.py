"""The trio side of assocsim: actors that drive the sans-I/O machines over a transport.

An :class:`Actor` owns one machine, one mailbox (an :class:`Endpoint` of some
:class:`Transport`) and one heap of timers. A :class:`World` wires a cloud, shops and phones
and runs them until no work is left. Observers see every send, receipt, timer and note.
"""

from ._activity import Activity
from ._actor import Actor
from ._collector import rare_full_collections
from ._determinism import deterministic_scheduling
from ._effects import EffectsInterpreter
from ._errors import (
    AuthenticationError,
    FaultPlanError,
    HelloRefused,
    LivelockError,
    StoreError,
    TlsVerificationFailed,
    TransportError,
    UnknownAddress,
)
from ._fault_plan import CrashTally, IdleFault, check_fault_plan, idle_faults, no_actor_matches
from ._faults import Crash, Link, NetworkConfig, Partition
from ._inline import InlineEndpoint, InlineTransport
from ._memory import MemoryEndpoint, MemoryTransport
from ._simnet import KnobCount, SimNetwork
from ._sink import EventSink, Taps, observe_all, taps_of
from ._sqlite_store import SqliteStore
from ._step import (
    STEP_KINDS,
    CrashPoint,
    CrashPointStore,
    KilledInsideStep,
    StoreProxy,
    durable_state,
    run_step,
    step_kind,
)
from ._tcp import (
    Authenticate,
    Backoff,
    ConnectFailure,
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
    CRASH_BETWEEN_STEPS,
    CRASH_INSIDE_STEP,
    CRASH_POINTS,
    FAULT_KINDS,
    GAP_EVENT,
    GAP_RESERVE_BYTES,
    TRACE_FORMAT,
    EventKind,
    JsonlTraceWriter,
    Observer,
    TraceEvent,
    TraceLimitError,
    fan_out,
    receipt_key,
)
from ._transport import DirectEndpoint, Endpoint, Envelope, Transport
from ._world import Scheduling, World

__all__ = [
    "CRASH_BETWEEN_STEPS",
    "CRASH_INSIDE_STEP",
    "CRASH_POINTS",
    "FAULT_KINDS",
    "GAP_EVENT",
    "GAP_RESERVE_BYTES",
    "STEP_KINDS",
    "TRACE_FORMAT",
    "Activity",
    "Actor",
    "Authenticate",
    "AuthenticationError",
    "Backoff",
    "ConnectFailure",
    "Crash",
    "CrashPoint",
    "CrashPointStore",
    "CrashTally",
    "DirectEndpoint",
    "EffectsInterpreter",
    "Endpoint",
    "Envelope",
    "EventKind",
    "EventSink",
    "FaultPlanError",
    "HelloRefused",
    "IdleFault",
    "InlineEndpoint",
    "InlineTransport",
    "JsonlTraceWriter",
    "KilledInsideStep",
    "KnobCount",
    "Link",
    "LivelockError",
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
    "StoreProxy",
    "Taps",
    "TcpClientEndpoint",
    "TcpClientTransport",
    "TcpLimits",
    "TcpLocalEndpoint",
    "TcpServerTransport",
    "TcpStats",
    "TimerOwner",
    "TimerService",
    "TlsVerificationFailed",
    "TraceEvent",
    "TraceLimitError",
    "Transport",
    "TransportError",
    "UnknownAddress",
    "World",
    "check_fault_plan",
    "connect_tcp",
    "deterministic_scheduling",
    "durable_state",
    "fan_out",
    "idle_faults",
    "no_actor_matches",
    "observe_all",
    "rare_full_collections",
    "receipt_key",
    "run_step",
    "serve_tcp",
    "step_kind",
    "taps_of",
]
