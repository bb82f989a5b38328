"""A simulated network in virtual time: latency, jitter, loss, duplication, reordering and
partitions, every choice drawn from one seeded random generator.

:class:`SimNetwork` is a transport like the others (the actors never know), built on the
inline transport's mailboxes. A message sent at ``t`` is delivered at ``t + latency +
jitter draw``: the delivery is an entry in the world's :class:`~actors.TimerService` heap,
so virtual time reaches it like any timer. Each fault it injects is reported to the
world's observer as a trace event (``drop``, ``dup``, ``delay``, ``partition``), so a
report counts the faults that really happened, not the ones configured. The network also
counts them by what configured them (:meth:`SimNetwork.knob_counts`,
:meth:`SimNetwork.cut_by_partition`, :meth:`SimNetwork.sent_by_link`), so a configured
fault that injected nothing can be named (``actors.idle_faults``).

The same seed and the same sequence of sends give the same deliveries: the generator is
drawn in send order, a fixed number of times per message.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from typing import NamedTuple

import trio

from protocol import Address, Message

from ._activity import Activity
from ._errors import UnknownAddress
from ._faults import NetworkConfig, Partition
from ._inline import InlineTransport
from ._timers import TimerService
from ._trace import EventKind, Observer, TraceEvent
from ._transport import Envelope

__all__ = ["FAULT_KNOBS", "KnobCount", "SimNetwork"]

FAULT_KNOBS = ("loss", "duplicate", "reorder")
"""The network's fault knobs (rates applied during the fault phase)."""


class KnobCount(NamedTuple):
    """What one configured fault rate did: ``exposed`` messages were sent under it during
    the fault phase, and it injected ``injected`` faults: drops, copies, or hold-backs that
    a later message on the same link overtook (a message held back on a link that carries
    nothing after it is late, not reordered). ``held_back``: the reorder knob's hold-backs,
    overtaken or not (0 for the other knobs)."""

    exposed: int
    injected: int
    held_back: int = 0


class _LinkParams:
    """The settings of one (sender, recipient) link, and what happened on it.

    ``rule`` is the index of the ``[[network.link]]`` entry that covers the link (the first
    one), or -1: the network-wide settings only."""

    __slots__ = (
        "arrived",
        "duplicate",
        "duplicated",
        "exposed",
        "jitter",
        "latency",
        "loss",
        "lost",
        "overtaken",
        "reorder",
        "reordered",
        "rule",
        "sent",
    )

    def __init__(
        self,
        latency: float,
        jitter: float,
        loss: float,
        duplicate: float,
        reorder: float,
        *,
        rule: int,
    ) -> None:
        self.latency = latency
        self.jitter = jitter
        self.loss = loss
        self.duplicate = duplicate
        self.reorder = reorder
        self.rule = rule
        self.sent = 0  # messages over this link (not cut by a partition)
        self.exposed = 0  # ... of them sent during the fault phase
        self.lost = 0
        self.duplicated = 0
        self.reordered = 0  # held back (a ``delay`` event each)
        self.overtaken = 0  # ... of them, arrived after a message sent later on the link
        self.arrived = -1  # the latest send (its number) delivered on the link


class _Arrival(NamedTuple):
    """Timer key of a message in flight (unique: ``number`` is twice the send's number,
    plus 1 for a duplicate's second copy); ``held``: reordering held it back."""

    number: int
    envelope: Envelope
    link: _LinkParams
    held: bool


class _PartitionEdge(NamedTuple):
    """Timer key: partition ``index`` starts or ends."""

    number: int
    phase: str


class SimNetwork(InlineTransport):
    """Parties in one trio run, connected by a misbehaving network in virtual time."""

    def __init__(
        self,
        config: NetworkConfig | None = None,
        *,
        seed: int = 0,
        partitions: Sequence[Partition] = (),
    ) -> None:
        super().__init__()
        self.config = config if config is not None else NetworkConfig()
        self.partitions = tuple(partitions)
        self._random = random.Random(seed)
        self._links: dict[tuple[Address, Address], _LinkParams] = {}
        self._active: list[tuple[int, Partition]] = []
        self._cuts = [0] * len(self.partitions)
        self._sends = 0
        self._timers: TimerService | None = None
        self._activity: Activity | None = None
        self._observe: Observer | None = None
        self._started_at = 0.0

    def attach(self, timers: TimerService, activity: Activity, observer: Observer | None) -> None:
        """Join a world: deliver through its timer heap, count with its activity."""
        self._timers = timers
        self._activity = activity
        self._observe = observer

    def start(self, now: float) -> None:
        """Schedule the partitions (their times count from ``now``, the world's start)."""
        self._started_at = now
        timers, activity = self._require_world()
        for index, partition in enumerate(self.partitions):
            for phase, at in (("start", partition.start), ("end", partition.end)):
                activity.add()
                timers.arm(self, _PartitionEdge(index, phase), now + at)

    # ------------------------------------------------------------------ sending

    def _deliver(self, envelope: Envelope) -> None:
        timers, activity = self._require_world()
        sender, recipient = envelope.sender, envelope.recipient
        if recipient not in self._endpoints:
            # Refused now, as every transport does (the sender's send-failed), not on
            # arrival, out of the step that sent it (reviewer B's F5): no draw, no fault.
            raise UnknownAddress(f"no party at {recipient!r} on this transport")
        now = trio.current_time()
        self._sends += 1
        if self._active and self._cut(sender, recipient):
            self._fault(now, EventKind.DROP, envelope, "partition")
            activity.done()
            return
        link = self._link(sender, recipient)
        link.sent += 1
        draw = self._random.random
        lost, copied, held = draw(), draw(), draw()  # always three draws: stable streams
        in_fault_phase = self._in_fault_phase(now)
        if in_fault_phase:
            link.exposed += 1
        if in_fault_phase and lost < link.loss:
            link.lost += 1
            self._fault(now, EventKind.DROP, envelope, "loss")
            activity.done()
            return
        copies = 1
        if in_fault_phase and copied < link.duplicate:
            copies = 2
            link.duplicated += 1
            activity.add()
            self._fault(now, EventKind.DUPLICATE, envelope, "duplicate")
        for copy in range(copies):
            delay = link.latency + link.jitter * draw()
            hold = in_fault_phase and copy == 0 and held < link.reorder
            if hold:
                link.reordered += 1
                delay += self.config.reorder_delay * draw()
                self._fault(now, EventKind.DELAY, envelope, "reorder")
            if delay <= 0:
                link.arrived = self._sends  # the link's latest send: none later arrived
                super()._deliver(envelope)
            else:
                arrival = _Arrival(self._sends * 2 + copy, envelope, link, hold)
                timers.arm(self, arrival, now + delay)

    def _in_fault_phase(self, now: float) -> bool:
        until = self.config.faults_until
        return until is None or now - self._started_at < until

    def _link(self, sender: Address, recipient: Address) -> _LinkParams:
        params = self._links.get((sender, recipient))
        if params is None:
            config = self.config
            latency, jitter = config.latency, config.jitter
            loss, duplicate, reorder = config.loss, config.duplicate, config.reorder
            rule = -1
            for index, link in enumerate(config.link):
                if link.covers(sender, recipient):
                    rule = index
                    latency = link.latency if link.latency is not None else latency
                    jitter = link.jitter if link.jitter is not None else jitter
                    loss = link.loss if link.loss is not None else loss
                    duplicate = link.duplicate if link.duplicate is not None else duplicate
                    reorder = link.reorder if link.reorder is not None else reorder
                    break
            params = _LinkParams(latency, jitter, loss, duplicate, reorder, rule=rule)
            self._links[(sender, recipient)] = params
        return params

    def _cut(self, sender: Address, recipient: Address) -> bool:
        """Does an active partition cut this message? Each one that does counts it."""
        cut = False
        for index, partition in self._active:
            if partition.cuts(sender, recipient):
                self._cuts[index] += 1
                cut = True
        return cut

    # ------------------------------------------------------------------ what it injected

    def cut_by_partition(self) -> tuple[int, ...]:
        """Messages each partition (in the order given) cut, so far."""
        return tuple(self._cuts)

    def sent_by_link(self) -> tuple[int, ...]:
        """Messages sent over links each ``[[network.link]]`` entry covers (the first entry
        covering a link sets it), so far; messages cut by a partition at sending are not
        counted."""
        sent = [0] * len(self.config.link)
        for params in self._links.values():
            if params.rule >= 0:
                sent[params.rule] += params.sent
        return tuple(sent)

    def knob_counts(self) -> dict[tuple[str, int], KnobCount]:
        """What each configured fault rate did, so far: ``(knob, source)`` -> its count,
        ``knob`` one of :data:`FAULT_KNOBS`, ``source`` the index of the
        ``[[network.link]]`` entry whose value applied, or -1 for the network-wide one.
        Every source that applied to some link is present (a rate of 0 included)."""
        links = self.config.link
        exposed: dict[tuple[str, int], int] = {}
        injected: dict[tuple[str, int], int] = {}
        held: dict[tuple[str, int], int] = {}
        for params in self._links.values():
            rule = params.rule
            for knob, events in zip(
                FAULT_KNOBS, (params.lost, params.duplicated, params.overtaken), strict=True
            ):
                source = rule if rule >= 0 and getattr(links[rule], knob) is not None else -1
                key = (knob, source)
                exposed[key] = exposed.get(key, 0) + params.exposed
                injected[key] = injected.get(key, 0) + events
                if knob == "reorder":
                    held[key] = held.get(key, 0) + params.reordered
        return {key: KnobCount(exposed[key], injected[key], held.get(key, 0)) for key in exposed}

    # ------------------------------------------------------------------ the timer heap calls

    def holds_timer(self, key: Hashable, seq: int) -> bool:
        return True  # a message in flight is never cancelled

    def timer_due(self, key: Hashable, seq: int, now: float) -> None:
        if isinstance(key, _Arrival):
            envelope = key.envelope
            if self._active and self._cut(envelope.sender, envelope.recipient):
                self._fault(now, EventKind.DROP, envelope, "partition")
                self._require_world()[1].done()
                return
            link, send = key.link, key.number >> 1  # the send, whichever copy
            if send > link.arrived:
                link.arrived = send
            elif key.held and send < link.arrived:
                # a message sent after it on its link arrived first (its own duplicate
                # arriving first is no reordering: the recipient sees the same message)
                link.overtaken += 1
            super()._deliver(envelope)
        elif isinstance(key, _PartitionEdge):
            partition = self.partitions[key.number]
            if key.phase == "start":
                self._active.append((key.number, partition))
            else:
                self._active.remove((key.number, partition))
            observe = self._observe
            if observe is not None:
                side, other = ",".join(partition.side), ",".join(partition.other)
                observe(TraceEvent(now, EventKind.PARTITION, side, other, detail=key.phase))
            self._require_world()[1].done()

    # ------------------------------------------------------------------ helpers

    def _fault(self, now: float, kind: EventKind, envelope: Envelope, what: str) -> None:
        observe = self._observe
        if observe is not None:
            message: Message = envelope.message
            observe(TraceEvent(now, kind, envelope.sender, envelope.recipient, message, None, what))

    def _require_world(self) -> tuple[TimerService, Activity]:
        if self._timers is None or self._activity is None:
            raise RuntimeError("a SimNetwork carries messages only inside a World")
        return self._timers, self._activity
