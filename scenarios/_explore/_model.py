"""The protocol as a model to explore: the sans-I/O machines of a small world, stepped
one event at a time, every nondeterministic choice a branch.

A state is the virtual time, one frozen snapshot per party (the cloud's: its store, and
what it keeps in memory), the armed timers, the multiset of messages in flight and the
fault budgets left. Its successors (``docs/explore.md``):

* **deliver** any message in flight (at the current time), or, within the budgets,
  **lose** it or **duplicate** it;
* **fire** the earliest armed timer (ties: any of them), moving the time to its deadline;
  a re-send timer (:class:`~protocol.lowlevel.Resend`) fires only when no message is in
  flight: deliveries are faster than a retry, so a re-send follows a loss;
* **crash** a party between two steps (its timers are lost; the cloud's memory too:
  it is rebuilt by its factory) and restart it at once, or, ``inside``, kill a cloud
  step right after its k-th store write (:class:`~actors.CrashPoint`), rolled back by the
  step's transaction (:func:`~actors.run_step`) as a real kill -9 would be.

Every step is traced as the actors trace it (:class:`~actors.TraceEvent`), so a path is an
ordinary trace (``docs/trace-format.md``), judged by ``assocsim check``'s own
:class:`~scenarios.TraceChecker` (one definition of every promise).

A party's step depends only on its snapshot, its input and the time, so each such move
(:class:`_Move`) is computed once and reused by every state that makes it; the network
and the timers are held as numbers (``docs/explore.md``, "Speed").
"""

from __future__ import annotations

import hashlib
import itertools
import operator
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from itertools import compress
from typing import Any, NamedTuple, cast

from actors import (
    CRASH_BETWEEN_STEPS,
    CRASH_INSIDE_STEP,
    CrashPoint,
    CrashPointStore,
    EventKind,
    KilledInsideStep,
    TraceEvent,
    durable_state,
    run_step,
)
from protocol import (
    CLOUD,
    AssociationPush,
    AssociationResponse,
    Checkout,
    CloudConfig,
    CloudMachine,
    CloudStore,
    Effects,
    InMemoryStore,
    Machine,
    Message,
    PhoneMachine,
    PosMachine,
    Recommender,
    RuleRecommender,
    message_type,
    phone_address,
    pos_address,
)
from protocol.lowlevel import Resend
from scenarios._sim._runner import CloudFactory, restarted
from scenarios._trace._checks import (
    CheckResult,
    Ignorable,
    MonitorState,
    TraceChecker,
    ignorable,
    keep_body_digest,
)
from scenarios._trace._reader import TraceRecord, record_of_event

from ._rename import Renaming
from ._snapshot import Dict as _Dict
from ._snapshot import Snapshot, freeze_attributes, thaw_attributes
from ._world import Budgets, CrashPoints, ExploreError, ExploreWorld

__all__ = [
    "CRASH_INSIDE",
    "CRASH_PUSH_PENDING",
    "DUAL_SEND",
    "DUPLICATED",
    "LOST",
    "PULL_ANSWERED",
    "SOMETIMES",
    "STEP_RAISED",
    "TIMEOUT_PUSH",
    "Flight",
    "ProtocolModel",
    "Step",
    "WorldState",
    "reference_cloud",
]

STEP_RAISED = "step-raised"  # a machine raised an exception: always a violation
_NO_MARKS: frozenset[str] = frozenset()

# The sometimes-properties: each must be reached, or the search proved nothing about it.
PULL_ANSWERED = "a pull is answered"
TIMEOUT_PUSH = "a timeout push is sent"
DUAL_SEND = "a dual-send push is sent"
LOST = "a message is lost"
DUPLICATED = "a message is duplicated"
CRASH_PUSH_PENDING = "the cloud crashes with a push pending"
CRASH_INSIDE = "the cloud dies inside a step after a store write"
_LOST_MARKS, _DUPLICATED_MARKS = frozenset({LOST}), frozenset({DUPLICATED})
SOMETIMES = (
    PULL_ANSWERED,
    TIMEOUT_PUSH,
    DUAL_SEND,
    LOST,
    DUPLICATED,
    CRASH_PUSH_PENDING,
    CRASH_INSIDE,
)

_NAMELESS = frozenset({int, float, bool, type(None)})  # atoms whose texts no renaming changes
_CONTAINERS = frozenset({frozenset, tuple})  # the kinds of a checker's cells that are not atoms
_TEXTS_KEPT = 50_000  # canonical texts cached for symmetry (each a few KB): ~0.3 GB at most
_MOVES_KEPT = 200_000  # moves cached (each its events, about 1 KB): ~0.2 GB at most
# the bits of an events' number in a checker move's key (monitor << _EVENTS_BITS | number):
# events are numbered anew from 0 when their cache is cleared, so a number stays below
# _MOVES_KEPT and two keys never collide (tests/scenarios/test_explore_monitor.py)
_EVENTS_BITS = 32
_FINGERPRINTS_KEPT = 500_000  # symmetric fingerprints cached by state (~0.5 KB each)
_CLOUD_KEEPS = ("store", "recommender", "config", "device_tokens")  # not its memory
_POS_CONSTANTS = ("merchant_id", "pos_id", "cloud", "_checkouts", "_promotions")
_PHONE_CONSTANTS = ("phone_id", "subscribes", "cloud", "_ask_plan", "_default_ask_delay")
_STORE_SKIP = ("_undo",)
_NOTE, _SEND, _RECV, _TIMER = EventKind.NOTE, EventKind.SEND, EventKind.RECEIVE, EventKind.TIMER
_new = tuple.__new__  # a named tuple made at C speed on the hot path: _new(Step, (...))
# a step killed inside: its memo's kind and its label's verb, made once
_INSIDE = {verb: f"inside-{verb}" for verb in ("deliver", "fire")}
_CRASH_INSIDE = {verb: f"crash-inside-{verb}" for verb in ("deliver", "fire")}


def reference_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The reference :class:`~protocol.CloudMachine` as a cloud factory."""
    return CloudMachine(store=store, recommender=recommender, config=config)


class Flight:
    """A message in flight (sender, recipient, message), its hash computed once: every
    state's network is a frozenset of them."""

    __slots__ = ("_hash", "frm", "message", "to")

    def __init__(self, frm: str, to: str, message: Message) -> None:
        self.frm, self.to, self.message = frm, to, message
        self._hash = hash((frm, to, message))

    def __iter__(self) -> Iterator[Any]:
        return iter((self.frm, self.to, self.message))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Flight)
            and self._hash == other._hash
            and (self.frm, self.to, self.message) == (other.frm, other.to, other.message)
        )

    def __repr__(self) -> str:
        return repr((self.frm, self.to, self.message))


class Step(NamedTuple):
    """A transition's label: what happened (``verb``), to whom, and on what."""

    verb: str  # deliver, lose, duplicate, fire, crash, crash-inside
    actor: int
    what: Hashable  # the message in flight (frm, to, message) or the timer key
    writes: int = 0  # crash-inside: after this many store writes


class _Trail(NamedTuple):
    events: tuple[TraceEvent, ...]
    parent: _Trail | None


class _Move(NamedTuple):
    """What one step of a party does to the world. A step is a function of the party's
    snapshot and its input (a party's state is all in its attributes, or fingerprints
    would not work either), so a move is computed once per (snapshot, input) and reused
    by every state that makes it: most transitions cost no machine step, no thaw and no
    freeze (``docs/explore.md``, "Speed")."""

    snap: int | None  # the party's state after the step, numbered; None: the step raised
    events: tuple[TraceEvent, ...]  # as the actors trace the step
    cancels: tuple[int, ...]  # the timer slots (party, key: numbered) it disarms
    arms: tuple[tuple[int, int], ...]  # the slots it (re)arms and their timers' numbers
    flights: tuple[int, ...]  # messages it sends to parties of the world, numbered
    marks: frozenset[str]  # the sometimes-properties it reaches
    restarted: bool = False  # a crash and restart: its timers died first
    error: str | None = None  # what the step raised


class WorldState(NamedTuple):
    """One state: ``key`` and ``monitor`` (what the search fingerprints) and the trace that
    led to it. A tuple: a transition makes one with ``_new`` (``tuple.__new__``, at C
    speed; a named tuple's own constructor is a Python function)."""

    key: tuple[Any, ...]
    trail: _Trail | None
    marks: frozenset[str]
    error: str | None = None  # a party's step raised: what, and the step ends the path
    # the number of the state of assocsim check's monitor after the trail's events: the
    # search explores the product of the world and the monitor (issue 15)
    monitor: int = 0

    def chunks(self) -> list[tuple[TraceEvent, ...]]:
        """The events of the start, then of each transition, in order."""
        chunks: list[tuple[TraceEvent, ...]] = []
        trail = self.trail
        while trail is not None:
            chunks.append(trail.events)
            trail = trail.parent
        chunks.reverse()
        return chunks

    def events(self) -> list[TraceEvent]:
        return [ev for chunk in self.chunks() for ev in chunk]


# key = (now, actors, timers, network, budgets)
#   actors: one snapshot number per party (0: the cloud, then the POSes, then the phones;
#     ProtocolModel._snapshots: a state's key is all small numbers, hashed at C speed)
#   timers: frozenset of timer numbers (ProtocolModel._timers: (actor, key, at))
#   network: sorted tuple of message numbers (ProtocolModel._flights), one per copy
#   budgets: (losses, duplications, crashes) left


class ProtocolModel:
    """The :class:`~scenarios._explore._search.Model` of ``world`` under ``budgets``,
    with the cloud built by ``cloud`` (``factory(store, recommender, config)``)."""

    def __init__(
        self,
        world: ExploreWorld,
        budgets: Budgets,
        *,
        cloud: CloudFactory = reference_cloud,
        symmetry: bool = True,
        memoize: bool = True,
        monitor: bool = True,
        mirrors: bool = True,
    ) -> None:
        self.world = world
        self.budgets = budgets
        self._factory = cloud
        self._config = world.cloud_config()
        self._recommender = RuleRecommender()  # learns nothing: answers depend on the upload
        self._base = InMemoryStore()  # the cloud's "disk", restored before each step
        self._point = CrashPoint()
        self._store = CrashPointStore(self._base, self._point)
        self._cloud: Any = cloud(self._store, self._recommender, self._config)
        self._poses = [
            PosMachine(
                f"shop-{i + 1}",
                "pos-1",
                (Checkout(p.at, p.receipt_id, p.named, phone_address(p.buyer), (world.item(p),)),),
                retry=world.retry,
            )
            for i, p in enumerate(world.purchases)
        ]
        self._phones = [
            PhoneMachine(
                ph.phone_id,
                subscribes=ph.subscribes,
                default_ask_delay=world.ask_delay(ph.phone_id),
                retry=world.retry,
            )
            for ph in world.phones
        ]
        self.addresses: tuple[str, ...] = (
            CLOUD,
            *(pos_address(m.merchant_id, m.pos_id) for m in self._poses),
            *(phone_address(m.phone_id) for m in self._phones),
        )
        self._index = {address: i for i, address in enumerate(self.addresses)}
        self._live: list[Any] = [self._cloud, *self._poses, *self._phones]
        # each party's step transactions (run_step's): a runtime Protocol check is slow
        self._durable = [durable_state(machine) for machine in self._live]
        self._between = budgets.crash_points in (CrashPoints.BETWEEN, CrashPoints.ANYWHERE)
        self._inside = budgets.crash_points in (CrashPoints.INSIDE, CrashPoints.ANYWHERE)
        self._settings = world.settings()
        self._symmetry(symmetry, mirrors)
        # the hashes of the parts' canonical texts, one per renaming: timers and messages by
        # number, each party's snapshots apart
        self._texts: dict[int, tuple[int, ...]] = {}
        self._snap_texts: list[dict[int, tuple[int, ...]]] = [{} for _ in self._live]
        # a state's kinds of parts (its snapshots' tuple, its timers, its network) -> per
        # renaming, the hash of their parts' sorted hashes
        self._groups: tuple[dict[Any, tuple[int, ...]], ...] = ({}, {}, {})
        # the hash of (a state's key, its monitor) -> its symmetric fingerprint (_product,
        # _least): most transitions reach a state some other transition reached (about
        # 2 in 3 on the bench worlds), whose key then hashes at C speed instead of being
        # renamed again
        self._fingerprints: dict[int, int] = {}
        self.judged = 0  # quiet states whose path was judged
        # (kind, party, its snapshot, input, time) -> its _Move (or moves, killed inside)
        self._memoize = memoize  # False: every transition steps a machine (bench, tests)
        self._moves: dict[Hashable, Any] = {}
        # Each distinct snapshot numbered once (kept for the search: a state holds its
        # number, so snapshots are hashed once, when a step makes them, never per state).
        self._snapshots: list[Snapshot] = []
        self._snapshot_ids: dict[Snapshot, int] = {}
        # The parts of a state's network and timers, numbered once: a state holds small
        # numbers, which hash and compare at C speed (docs/explore.md, "Speed").
        self._flights: list[Flight] = []
        self._flight_ids: dict[Flight, int] = {}
        self._timers: list[tuple[int, Hashable, float]] = []  # (party, key, deadline)
        self._timer_ids: dict[tuple[int, Hashable, float], int] = {}
        self._slots: dict[tuple[int, Hashable], int] = {}  # (party, key): one timer at a time
        self._slot_of: list[int] = []  # a timer's number -> its slot
        # (the party if restarted else -1, a move's cancels and arms, the timers armed
        # before it) -> the timers armed after it (_timed): a function of those alone,
        # since a timer's number keeps its party and slot; hashed at C speed
        self._timed_moves: dict[tuple[int, Any, Any, frozenset[int]], frozenset[int]] = {}
        # The monitor (TraceChecker) states, numbered: one checker and its state in each,
        # and per (state, events' number) the state after them: equal events from one
        # monitor state lead to one state, whichever move made them.
        self._monitors: list[TraceChecker] = []
        self._monitor_states: list[MonitorState] = []
        self._monitor_ids: dict[MonitorState, int] = {}
        # (monitor << _EVENTS_BITS | events' number) -> the monitor after them: one int,
        # compared at once (an events' number stays below _MOVES_KEPT < 2**_EVENTS_BITS)
        self._monitor_moves: dict[int, int] = {}
        self._monitor_texts: dict[int, tuple[int, ...]] = {}
        self._cells_seen: dict[Hashable, Hashable] = {}  # equal monitor cells: one object
        # The events a transition feeds the monitor, numbered once (by the tuple's
        # identity first: a move's events are one object) and parsed once.
        self._event_ids: dict[int, tuple[tuple[TraceEvent, ...], int]] = {}
        self._event_numbers: dict[tuple[TraceEvent, ...], int] = {}
        self._records: dict[int, tuple[TraceRecord, ...]] = {}
        # per events' number, each event's ignorable() rule when every one has one (else
        # absent): a miss on such events first asks whether the checker ignores them
        self._ignorable: dict[int, tuple[Ignorable, ...]] = {}
        self._faults: dict[tuple[EventKind, int, float], tuple[TraceEvent, ...]] = {}
        self._numbers = itertools.count()
        # False: the world's states alone, the monitor not tracked (unsound merging: only
        # to count the world's states in tests and the bench)
        self._with_monitor = monitor
        self._initial = self._start()

    def _symmetry(self, symmetry: bool, mirrors: bool) -> None:
        """The renamings (none without symmetry), where each moves each party, and the
        caches of canonical forms under them."""
        # the hash of (a state's key, its monitor) -> the renamings (by number) that map
        # that state onto itself, when any but the identity does: its transitions that
        # mirror an earlier one are counted, not computed (successors; ``mirrors``
        # False: never; docs/explore.md, *Mirrored transitions*)
        self._mirrors = mirrors
        self._stabilizers: dict[int, tuple[int, ...]] = {}
        # the checker states whose canonical form some renaming keeps (_monitor_id)
        self._mirrored_monitors: set[int] = set()
        self._digest_texts: dict[bytes, str] = {}  # the checker's digests -> the bodies
        # per monitor state, its cells' canonical hashes, one per renaming; per cell, those
        self._monitor_rows: list[list[tuple[int, ...]]] = []
        self._cell_values: dict[tuple[type, Hashable], tuple[int, ...]] = {}
        self._cell_texts: dict[int, tuple[Hashable, tuple[int, ...]]] = {}
        # a set cell's member (a table's item) -> its canonical hash, one per renaming
        self._member_forms: dict[Hashable, tuple[int, ...]] = {}
        # per renaming, a snapshot's (name, frozen value) attribute -> its canonical hash
        self._attribute_forms: list[dict[tuple[str, Any], int]] = []
        # a monitor's verdict lines, judged once (_verdict)
        self._verdicts: dict[int, tuple[str, ...]] = {}
        # one renaming per permutation of the symmetric purchases (none: no symmetry): the
        # identity first; as texts, and as values (a snapshot's, for its canonical form)
        self._names = tuple(
            Renaming(m, self._digest_texts) for m in (_renamings(self.world) if symmetry else ())
        )
        self._renamings = tuple(names.text for names in self._names)
        self._attribute_forms = [{} for _ in self._names]
        # for a checker cell's atoms: a renaming that caches each text it renamed (the
        # identity: str)
        self._atom_renamings: tuple[Callable[[str], str], ...] = tuple(
            names.text if names.text is str else names for names in self._names
        )
        # per renaming, where each party goes (a shop's POS and a phone change places)
        self._moved_to = tuple(
            tuple(self._index[names.text(address)] for address in self.addresses)
            for names in self._names
        )

    # ------------------------------------------------------------------ Model

    def initial_states(self) -> Iterator[WorldState]:
        yield self._initial

    def _start(self) -> WorldState:
        """Every party started at time 0 (called once, on the fresh machines)."""
        timers: frozenset[int] = frozenset()
        network: tuple[int, ...] = ()
        events: list[TraceEvent] = []
        snaps = []
        for i, machine in enumerate(self._live):
            effects = run_step(self._durable[i], machine.start, 0.0)
            move = self._moved(i, effects, 0.0, [], _NO_MARKS)
            timers = self._timed(i, move, timers)
            network = tuple(sorted(network + move.flights))
            events += move.events
            snaps.append(move.snap)
        b = self.budgets
        key = (0.0, tuple(snaps), timers, network, (b.loss, b.duplication, b.crashes))
        first = TraceChecker(self._settings)
        first.seal()  # kept as state 0: fed never (a fork of it is the scratch)
        self._scratch_state = first.monitor_state()
        self._monitor_id(first, self._scratch_state)  # number 0: nothing seen yet
        self._scratch: TraceChecker | None = None  # forked from the first miss's checker
        # (then moved from state to state; never kept: TraceChecker.kept copies it)
        trail = _Trail(tuple(events), None)
        return WorldState(key, trail, frozenset(), monitor=self._monitored(0, trail.events))

    def fingerprint(self, state: WorldState) -> Hashable:
        """The product's: the world's state and the monitor's (two paths into one world
        state with different monitor states are different states). A state a raising
        step made (its key ends with the error) is not renamed: it ends its path, judged
        at once, and merging it with nothing is sound."""
        symmetric = self._renamings and state.error is None
        if not self._with_monitor:
            return min(self._renamed(state.key)) if symmetric else hash(state.key)
        product = self._product(state)
        if not symmetric:
            return product
        found = self._fingerprints.get(product)
        if found is None:
            if len(self._fingerprints) >= _FINGERPRINTS_KEPT:
                self._fingerprints.clear()  # a cache: the memory is for the visited set
                self._stabilizers.clear()  # (absent: no transition skipped, always sound)
            found = self._fingerprints[product] = self._least(state)
        return found

    def _product(self, state: WorldState) -> int:
        """The hash of the product's state, the world's and the monitor's: without symmetry
        the fingerprint, with it the key of the cache of fingerprints (an int compares at
        once where the state's nested key would be compared part by part; the
        fingerprint is a 64-bit hash either way, ``docs/explore.md``)."""
        return hash((state.key, state.monitor))

    def _least(self, state: WorldState) -> int:
        """The least hash of ``state``'s canonical form under each renaming: the same for
        a state and each of its renamings (its mirrors)."""
        texts = self._monitor_texts[state.monitor] if self._with_monitor else None
        hashes = self._renamed(state.key, texts)
        first = hashes[0]
        if self._mirrors and texts is not None and hashes.count(first) > 1:
            # a renaming maps the state onto itself (its canonical form's hash, as the
            # fingerprint's): the transitions that mirror an earlier one are skipped
            self._stabilizers[self._product(state)] = tuple(
                [n for n in range(1, len(hashes)) if hashes[n] == first]
            )
        return min(hashes)

    def representative(self, state: WorldState) -> WorldState:
        """The state the search explores for ``state``, first reached: ``state`` itself.
        Under symmetry a mirror reached later has its fingerprint and is not explored:
        its successors are the mirrors of this one's (``docs/explore.md``,
        *Fingerprints and symmetry*)."""
        return state

    def successors(self, state: WorldState) -> Iterator[tuple[Step, WorldState | None]]:
        """Every transition of ``state`` and the state it reaches; None for a transition
        that mirrors an earlier one of this state under a renaming that maps the state
        onto itself: its state is the earlier one's mirror, whose fingerprint is already
        visited, so it is counted and not computed (``docs/explore.md``, *Mirrored
        transitions*)."""
        stabilizer = (  # only a state whose checker state some renaming keeps can be one
            self._stabilizers.get(self._product(state))
            if state.monitor in self._mirrored_monitors
            else None
        )
        mirrors = None if stabilizer is None else _Mirrors(stabilizer)
        return self._transitions(state, mirrors)

    def _transitions(
        self, state: WorldState, mirrors: _Mirrors | None
    ) -> Iterator[tuple[Step, WorldState | None]]:
        """Every transition of ``state`` (with ``mirrors``, those that mirror an earlier
        one: counted, with None for their state)."""
        yield from self._deliveries(state, mirrors)
        now, actors, timers, _, (_, _, crashes) = state.key
        if timers:
            yield from self._firings(state, mirrors)
        if crashes and self._between:
            for actor in range(len(self._live)):
                step = _new(Step, ("crash", actor, None, 0))
                if mirrors is not None:
                    forms = tuple([moved_to[actor] for moved_to in self._moved_to])
                    if mirrors.of("crash", forms) is not None:
                        self._crashing(actor, actors[actor], now)  # numbered as without
                        yield step, None
                        continue
                    mirrors.made("crash", actor).append(step)
                yield step, self._crash(state, actor)

    def _deliveries(
        self, state: WorldState, mirrors: _Mirrors | None
    ) -> Iterator[tuple[Step, WorldState | None]]:
        """Each message in flight delivered; within the budgets, lost, duplicated, or
        killing the cloud inside its step."""
        now, actors, timers, network, budgets = state.key
        losses, dups, crashes = budgets
        group: list[Step] | None = None
        last = -1
        for n, fid in enumerate(network):  # sorted: a message sent twice is delivered once
            if fid == last:
                continue
            last = fid
            item = self._flights[fid]
            actor = self._index[item.to]
            delivered = _new(Step, ("deliver", actor, item, 0))
            if mirrors is not None:
                forms = self._flight_renamed(fid)
                done = mirrors.of("flight", forms)
                if done is not None:
                    # its moves made all the same: what they send and arm is numbered as
                    # without the skip, and those numbers order later states' transitions
                    self._delivery(actor, actors[actor], fid, now)
                    if crashes and self._inside and actor == 0:
                        self._kill_moves(actors[0], delivered, now)
                    for made in done:
                        yield _new(Step, (made.verb, actor, item, made.writes)), None
                    continue
                group = mirrors.made("flight", forms[0])
            rest = network[:n] + network[n + 1 :]
            yield delivered, self._deliver(state, actor, fid, rest)
            if group is not None:
                group.append(delivered)
            if losses:
                step = _new(Step, ("lose", actor, item, 0))
                yield (
                    step,
                    self._with(
                        state,
                        (now, actors, timers, rest, (losses - 1, dups, crashes)),
                        self._fault(EventKind.DROP, fid, now),
                        _LOST_MARKS,
                    ),
                )
                if group is not None:
                    group.append(step)
            if dups:
                more = (*network[:n], fid, *network[n:])
                step = _new(Step, ("duplicate", actor, item, 0))
                yield (
                    step,
                    self._with(
                        state,
                        (now, actors, timers, more, (losses, dups - 1, crashes)),
                        self._fault(EventKind.DUPLICATE, fid, now),
                        _DUPLICATED_MARKS,
                    ),
                )
                if group is not None:
                    group.append(step)
            if crashes and self._inside and actor == 0:
                for made, child in self._killed_inside(state, delivered, rest, timers):
                    yield made, child
                    if group is not None:
                        group.append(made)

    def _firings(
        self, state: WorldState, mirrors: _Mirrors | None
    ) -> Iterator[tuple[Step, WorldState | None]]:
        """The earliest armed timers fired (a re-send only when nothing is in flight);
        within the budget, the cloud killed inside its step."""
        now, actors, timers, network, (_, _, crashes) = state.key
        table = self._timers
        earliest = min(table[t][2] for t in timers)
        quiet = not network
        for t in timers:
            actor, key, at = table[t]
            if at != earliest or not (quiet or type(key) is not Resend):
                continue
            step = _new(Step, ("fire", actor, key, 0))
            group: list[Step] | None = None
            if mirrors is not None:
                forms = self._timer_renamed(t)
                done = mirrors.of("timer", forms)
                if done is not None:  # its moves made all the same (as a message's)
                    self._firing(actor, actors[actor], key, max(now, at))
                    if crashes and self._inside and actor == 0:
                        self._kill_moves(actors[0], step, max(now, at))
                    for made in done:
                        yield _new(Step, (made.verb, actor, key, made.writes)), None
                    continue
                group = mirrors.made("timer", forms[0])
                group.append(step)
            rest_timers = timers - {t}
            yield step, self._fire(state, actor, key, at, rest_timers)
            if crashes and self._inside and actor == 0:
                for made, child in self._killed_inside(state, step, network, rest_timers, at):
                    yield made, child
                    if group is not None:
                        group.append(made)

    def violations(self, state: WorldState, terminal: bool) -> Sequence[str]:
        """A path is judged when it first becomes quiet (nothing in flight, no timer armed):
        every terminal state is quiet, and a quiet state with a crash left in the budget
        is not terminal but ends the runs in which that crash never comes."""
        if state.error is not None:
            return (f"{STEP_RAISED}: {state.error}",)
        _, _, timers, network, _ = state.key
        if terminal or timers or network:
            return ()  # a terminal state was judged when it was reached: it is quiet
        self.judged += 1
        if self._with_monitor:  # the monitor has read the path: its verdict
            return self._verdict(state.monitor)
        return tuple(v.format_line() for v in self.check(state.events()).violations)

    def reached(self, state: WorldState) -> Iterable[str]:
        return state.marks

    def settled(self, state: WorldState) -> bool:
        """Whether ``state`` is quiet (nothing in flight, no timer armed), or ends its path
        with a step's error: where a path is judged (:meth:`violations`), so where the
        search's livelock check wants every run able to arrive."""
        key = state.key  # (now, actors, timers, network, budgets[, a step's error])
        return state.error is not None or (not key[2] and not key[3])

    def _verdict(self, monitor: int) -> tuple[str, ...]:
        """The violations the checker in state ``monitor`` finds at a path's end (on a
        fork), judged once per state (many quiet states share one)."""
        found = self._verdicts.get(monitor)
        if found is None:
            result = self._monitors[monitor].fork().result()
            found = self._verdicts[monitor] = tuple([v.format_line() for v in result.violations])
        return found

    # ------------------------------------------------------------------ judging

    def _monitor_id(self, checker: TraceChecker, state: MonitorState, since: int = -1) -> int:
        """``state``'s number, made if new with its (fed) ``checker``; ``since``: the number
        of a state whose cells ``state`` shares where its events left them alone."""
        number = self._monitor_ids.get(state)
        if number is None:
            number = self._monitor_ids[state] = len(self._monitors)
            self._monitors.append(checker)
            self._monitor_states.append(state)
            if self._renamings:  # its canonical form under each renaming, made once
                before = self._monitor_states[since] if since >= 0 else ()
                if len(before) == len(state):  # only the cells the events changed renamed
                    rows = self._monitor_rows[since].copy()
                    for at in compress(range(len(state)), map(operator.is_not, state, before)):
                        rows[at] = self._cell_renamed(state[at])
                else:
                    rows = [self._cell_renamed(cell) for cell in state]
                self._monitor_rows.append(rows)
                texts = self._monitor_texts[number] = tuple(
                    [hash(c) for c in zip(*rows, strict=True)]
                )
                if self._mirrors and texts.count(texts[0]) > 1:
                    self._mirrored_monitors.add(number)
        return number

    def _next_monitor(self, state: WorldState, events: tuple[TraceEvent, ...]) -> int:
        """The monitor's state after ``events`` from ``state``'s: at once when this tuple
        of events is numbered and its move from that state known (most transitions: a
        probe by the tuple's identity, then by one int), else :meth:`_monitored`."""
        known = self._event_ids.get(id(events))
        if known is not None and known[0] is events:
            found = self._monitor_moves.get(state.monitor << _EVENTS_BITS | known[1])
            if found is not None:
                return found
        return self._monitored(state.monitor, events)

    def _monitored(self, monitor: int, events: tuple[TraceEvent, ...]) -> int:
        """The monitor's state (numbered) after ``events`` from state ``monitor``: the same
        TraceChecker that judges paths, made like that state's and fed the events (lines
        0: lines decide nothing); its state shares the cells the events left alone."""
        if not events or not self._with_monitor:
            return monitor
        number = self._events_number(events)
        pair = monitor << _EVENTS_BITS | number
        found = self._monitor_moves.get(pair)
        if found is not None:
            return found
        parent, before = self._monitors[monitor], self._monitor_states[monitor]
        rules = self._ignorable.get(number)
        if rules is not None and parent.ignores(self._records[number], rules):
            found = monitor  # events the checker provably ignores: not fed, nothing compared
        else:
            found = self._fed(parent, before, monitor, number)
        if len(self._monitor_moves) >= _MOVES_KEPT:
            self._monitor_moves.clear()
        self._monitor_moves[pair] = found
        return found

    def _fed(self, parent: TraceChecker, before: MonitorState, monitor: int, number: int) -> int:
        """The monitor state's number after the events numbered ``number`` fed from state
        ``monitor`` (its checker ``parent``, its state ``before``): the one scratch checker
        made like ``parent`` (the cells that differ copied; a fork of it the first time),
        fed the events; a copy of it kept only if it reaches a new state, sharing the
        containers its events left alone."""
        scratch = self._scratch
        if scratch is None:
            scratch = self._scratch = parent.fork()
        else:
            scratch.become(parent, self._scratch_state, before)
        try:
            for record in self._records[number]:
                scratch.feed_event(record)
            scratch.transition_whole()
        except BaseException:
            self._scratch = None  # fed in part, not the state it had: fork anew next time
            raise
        if len(self._cells_seen) >= _TEXTS_KEPT:
            self._cells_seen.clear()
        state = scratch.monitor_state(since=(parent, before), shared=self._cells_seen)
        self._scratch_state = state
        found = self._monitor_ids.get(state)
        if found is None:
            found = self._monitor_id(scratch.kept(parent, before, state), state, monitor)
        return found

    def _events_number(self, events: tuple[TraceEvent, ...]) -> int:
        """The number of ``events`` (equal tuples, one number), parsed once; numbers are
        reused only after every cache keyed by them is cleared."""
        known = self._event_ids.get(id(events))
        if known is not None and known[0] is events:
            return known[1]
        number = self._event_numbers.get(events)
        if number is None:
            if len(self._event_numbers) >= _MOVES_KEPT:  # a cache: numbered anew from 0,
                self._event_numbers.clear()  # with the checker's moves keyed by the numbers
                self._records.clear()
                self._ignorable.clear()
                self._event_ids.clear()
                self._monitor_moves.clear()
                self._numbers = itertools.count()
            number = self._event_numbers[events] = next(self._numbers)
            records = self._records[number] = self._parsed(events)
            rules = [ignorable(record) for record in records]
            if None not in rules:
                self._ignorable[number] = cast(tuple[Ignorable, ...], tuple(rules))
        if len(self._event_ids) >= _MOVES_KEPT:
            self._event_ids.clear()
        self._event_ids[id(events)] = (events, number)  # kept alive: its id is not reused
        return number

    def _parsed(self, events: tuple[TraceEvent, ...]) -> tuple[TraceRecord, ...]:
        """``events`` as the checker reads them, each body's digest kept for the checker
        (by the body's identity: these bodies are never changed); under symmetry, each
        body's text kept by that digest, so a renaming renames the digests too."""
        records = tuple([record_of_event(event, 0) for event in events])
        for record in records:
            if record.msg:  # its own dict, never changed: the checker finds its digest
                text, digest = keep_body_digest(record.msg)
                if self._renamings:
                    self._digest_texts.setdefault(digest, text)
        return records

    def _fault(self, kind: EventKind, fid: int, now: float) -> tuple[TraceEvent, ...]:
        """The event of a loss or a duplication of message ``fid``, one tuple per fault."""
        events = self._faults.get((kind, fid, now))
        if events is None:
            if len(self._faults) >= _MOVES_KEPT:
                self._faults.clear()
            item = self._flights[fid]
            fault = "loss" if kind is EventKind.DROP else None
            event = TraceEvent(now, kind, item.frm, item.to, item.message, None, fault)
            events = self._faults[(kind, fid, now)] = (event,)
        return events

    def _cell_renamed(self, cell: Hashable) -> tuple[int, ...]:
        """The hash of a monitor cell's canonical text under each renaming (renamed first,
        then sorted: a renamed set sorts anew), made once per distinct cell."""
        known = self._cell_texts.get(id(cell))  # cells are shared: by identity first
        if known is not None and known[0] is cell:
            return known[1]
        key = (type(cell), cell)
        found = self._cell_values.get(key)
        if found is None:
            if len(self._cell_values) >= _TEXTS_KEPT:
                self._cell_values.clear()
            if type(cell) is frozenset:  # a table or a set: its members' forms, sorted
                members = [self._member_renamed(member) for member in cell]
                found = _sorted_hashes(members, len(self._atom_renamings))
            else:
                digests = self._digest_texts
                found = tuple(
                    [hash(_canon_renamed(cell, rename, digests)) for rename in self._atom_renamings]
                )
            self._cell_values[key] = found
        if len(self._cell_texts) >= _TEXTS_KEPT:
            self._cell_texts.clear()
        self._cell_texts[id(cell)] = (cell, found)  # kept alive: its id is not reused
        return found

    def _member_renamed(self, member: Hashable) -> tuple[int, ...]:
        """The hash of one member of a set cell (a table's (key, record) item) in canonical
        form under each renaming, made once per distinct member: a cell the events changed
        mostly keeps its other members (one record per receipt), which cost a look-up."""
        found = self._member_forms.get(member)
        if found is None:
            if len(self._member_forms) >= _TEXTS_KEPT:
                self._member_forms.clear()
            digests = self._digest_texts
            found = self._member_forms[member] = tuple(
                [hash(_canon_renamed(member, rename, digests)) for rename in self._atom_renamings]
            )
        return found

    def check(self, events: Iterable[TraceEvent]) -> CheckResult:
        """``assocsim check``'s verdict on ``events`` (a :class:`~scenarios.CheckResult`)."""
        checker = TraceChecker(self._settings)
        for line, event in enumerate(events, 2):
            checker.feed_event(record_of_event(event, line))
        return checker.result()

    def expected(self) -> tuple[str, ...]:
        """The sometimes-properties this world under these budgets must reach."""
        world, b = self.world, self.budgets
        want: list[str] = []
        subscribed = {p.phone_id for p in world.phones if p.subscribes}
        dual_send = str(world.mismatch_policy) == "dual-send"
        if any(
            p.ask is not None and p.buyer in subscribed and (p.named == p.buyer or dual_send)
            for p in world.purchases
        ):
            want.append(PULL_ANSWERED)
        if any(
            p.named in subscribed
            and (p.ask is None or p.ask >= world.push_timeout or p.named != p.buyer)
            for p in world.purchases
        ):
            want.append(TIMEOUT_PUSH)
        if (
            any(
                p.named != p.buyer and p.ask is not None and p.named in subscribed
                for p in world.purchases
            )
            and str(world.mismatch_policy) == "dual-send"
        ):
            want.append(DUAL_SEND)
        if b.loss:
            want.append(LOST)
        if b.duplication:
            want.append(DUPLICATED)
        if b.crashes and self._between and TIMEOUT_PUSH in want:
            want.append(CRASH_PUSH_PENDING)
        if b.crashes and self._inside:
            want.append(CRASH_INSIDE)
        return tuple(want)

    def describe(self, step: Step) -> str:
        """A transition in words, the same in every process (a replay matches on it)."""
        who = self.addresses[step.actor]
        if step.verb in ("deliver", "lose", "duplicate"):
            frm, to, message = cast(Flight, step.what)
            receipt = getattr(message, "receipt_id", None)
            text = f"{step.verb} {message_type(message)} {frm} -> {to}"
            text += f" ({receipt})" if receipt else ""
            return f"{text} #{_digest(message)}"
        if step.verb == "fire":
            return f"fire {who} {step.what!r}"
        if step.verb == "crash":
            return f"crash {who}"
        inner = Step(step.verb.removeprefix("crash-inside-"), step.actor, step.what)
        return f"crash {who} inside [{self.describe(inner)}] after store write {step.writes}"

    def follow(self, path: Sequence[str]) -> WorldState:
        """The state at the end of ``path`` (transitions in the words of :meth:`describe`),
        from the initial state: a deterministic replay. :class:`ExploreError` if a step
        is not enabled where the path takes it."""
        state = next(iter(self.initial_states()))
        for n, text in enumerate(path, 1):
            for step, child in self._transitions(state, None):  # none skipped
                if child is not None and self.describe(step) == text:
                    state = child
                    break
            else:
                raise ExploreError(f"replay: step {n} ({text}) is not possible in this world")
        return state

    # ------------------------------------------------------------------ transitions

    def _with(
        self,
        state: WorldState,
        key: tuple[Any, ...],
        events: Sequence[TraceEvent],
        marks: frozenset[str],
    ) -> WorldState:
        trail = _new(_Trail, (tuple(events), state.trail))
        return _new(WorldState, (key, trail, marks, None, self._next_monitor(state, trail.events)))

    def _deliver(self, state: WorldState, actor: int, fid: int, rest: Any) -> WorldState:
        now, actors, timers, _, budgets = state.key
        move = self._delivery(actor, actors[actor], fid, now)
        return self._child(state, actor, move, now, rest, timers, budgets)

    def _delivery(self, actor: int, snap: int, fid: int, now: float) -> _Move:
        """The move of ``actor`` from ``snap`` receiving message ``fid`` at ``now``."""
        memo = self._memo_key("deliver", actor, snap, fid, now)
        move = self._moves.get(memo) if self._memoize else None
        if move is None:
            item = self._flights[fid]
            frm, message = item.frm, item.message
            events = [TraceEvent(now, _RECV, frm, item.to, message)]
            move = self._run(actor, snap, events, "handle", (message, frm, now))
            self._remember(memo, move)
        return move

    def _fire(
        self, state: WorldState, actor: int, key: Hashable, at: float, rest: Any
    ) -> WorldState:
        now = max(state.key[0], at)
        move = self._firing(actor, state.key[1][actor], key, now)
        return self._child(state, actor, move, now, state.key[3], rest, state.key[4])

    def _firing(self, actor: int, snap: int, key: Hashable, now: float) -> _Move:
        """The move of ``actor`` from ``snap`` when its timer ``key`` fires at ``now``."""
        memo = self._memo_key("fire", actor, snap, key, now)
        move = self._moves.get(memo) if self._memoize else None
        if move is None:
            address = self.addresses[actor]
            events = [TraceEvent(now, _TIMER, address, address, detail=key)]
            move = self._run(actor, snap, events, "timer_fired", (key, now))
            self._remember(memo, move)
        return move

    def _run(
        self,
        actor: int,
        snap: int,
        events: list[TraceEvent],
        method: str,
        args: tuple[Any, ...],
    ) -> _Move:
        """Step the party from ``snap``: its live machine restored, then run."""
        machine = self._restore(actor, snap)
        try:
            effects = run_step(self._durable[actor], getattr(machine, method), *args)
        except Exception as exc:  # a finding, not a crash of the explorer
            error = f"{self.addresses[actor]} raised {type(exc).__name__}: {exc}"
            return _Move(None, tuple(events), (), (), (), _NO_MARKS, error=error)
        return self._moved(actor, effects, args[-1], events, _NO_MARKS)

    def _crash(self, state: WorldState, actor: int) -> WorldState:
        now, actors, timers, network, (losses, dups, crashes) = state.key
        move = self._crashing(actor, actors[actor], now)
        return self._child(state, actor, move, now, network, timers, (losses, dups, crashes - 1))

    def _crashing(self, actor: int, snap: int, now: float) -> _Move:
        """The move of ``actor`` from ``snap`` crashing at ``now`` and restarting."""
        memo = self._memo_key("crash", actor, snap, None, now)
        move = self._moves.get(memo) if self._memoize else None
        if move is None:
            address = self.addresses[actor]
            crashed = TraceEvent(now, EventKind.CRASH, address, address, detail=CRASH_BETWEEN_STEPS)
            events = [crashed]
            marks: frozenset[str] = _NO_MARKS
            machine = self._restore(actor, snap)
            if actor == 0:
                if any(True for _ in self._base.pending_pushes()):
                    marks = frozenset({CRASH_PUSH_PENDING})
                machine = self._rebuild_cloud()
            else:  # a POS or a phone: a new machine from its durable part, as the runner's
                machine = self._live[actor] = restarted(machine)
            move = self._restart(actor, machine, events, marks, now)
            self._remember(memo, move)
        return move

    def _killed_inside(
        self, state: WorldState, step: Step, network: Any, left: Any, at: float = 0.0
    ) -> Iterator[tuple[Step, WorldState]]:
        """The cloud dies inside ``step`` (a delivery, or a timer due ``at``) after store
        write 1, 2, ... (each a branch); ``network`` and ``left``: what the step leaves."""
        now, actors, _, _, (losses, dups, crashes) = state.key
        now = max(now, at)
        moves = self._kill_moves(actors[0], step, now)
        budgets = (losses, dups, crashes - 1)
        for writes, move in enumerate(moves, 1):
            child = self._child(state, 0, move, now, network, left, budgets)
            yield _new(Step, (_CRASH_INSIDE[step.verb], 0, step.what, writes)), child

    def _kill_moves(self, snap: int, step: Step, now: float) -> tuple[_Move, ...]:
        """The cloud's moves from ``snap`` killed inside ``step`` at ``now`` (_kills)."""
        memo = self._memo_key(_INSIDE[step.verb], 0, snap, step.what, now)
        moves = self._moves.get(memo) if self._memoize else None
        if moves is None:
            moves = tuple(self._kills(snap, step, now))
            self._remember(memo, moves)
        return cast(tuple[_Move, ...], moves)

    def _kills(self, snap: int, step: Step, now: float) -> Iterator[_Move]:
        """The cloud's step from ``snap`` killed after its 1st, 2nd, ... store write,
        until the step makes fewer writes: every crash point of it."""
        for writes in itertools.count(1):
            machine = self._restore(0, snap)
            events: list[TraceEvent]
            if step.verb == "deliver":
                frm, to, message = cast(Flight, step.what)
                events = [TraceEvent(now, _RECV, frm, to, message)]
                call: Callable[..., Effects] = machine.handle
                args: tuple[Any, ...] = (message, frm, now)
                what: object = message
            else:
                events = [TraceEvent(now, _TIMER, CLOUD, CLOUD, detail=step.what)]
                call, args, what = machine.timer_fired, (step.what, now), step.what
            self._point.arm(writes, None)
            self._point.enter(what)
            try:
                run_step(self._durable[0], call, *args)
            except KilledInsideStep:
                pass
            else:
                return
            finally:
                self._point.disarm()
            events.append(TraceEvent(now, EventKind.CRASH, CLOUD, CLOUD, detail=CRASH_INSIDE_STEP))
            rebuilt = self._rebuild_cloud()
            yield self._restart(0, rebuilt, events, frozenset({CRASH_INSIDE}), now)

    def _restart(
        self,
        actor: int,
        machine: Any,
        events: list[TraceEvent],
        marks: frozenset[str],
        now: float,
    ) -> _Move:
        """The party restarted at ``now``: its timers died with it, it starts again."""
        address = self.addresses[actor]
        events.append(TraceEvent(now, EventKind.RESTART, address, address))
        effects = run_step(self._durable[actor], machine.start, now)
        return self._moved(actor, effects, now, events, marks, restarted=True)

    def _rebuild_cloud(self) -> Any:
        """A restarted cloud process: a new machine over the same store (its memory gone)."""
        self._cloud = self._live[0] = self._factory(self._store, self._recommender, self._config)
        self._durable[0] = durable_state(self._cloud)
        return self._cloud

    # ------------------------------------------------------------------ moves, snapshots

    def _memo_key(self, kind: str, actor: int, snap: int, what: Hashable, now: float) -> Hashable:
        """What a move is a function of: the party, its state, its input and the time."""
        return (kind, actor, snap, what, now)

    def _remember(self, memo: Hashable, move: Any) -> None:
        if self._memoize:
            if len(self._moves) >= _MOVES_KEPT:
                self._moves.clear()  # a cache: the memory of a long search is for its visited set
            self._moves[memo] = move

    def _moved(
        self,
        actor: int,
        effects: Effects,
        now: float,
        events: list[TraceEvent],
        marks: frozenset[str],
        *,
        restarted: bool = False,
    ) -> _Move:
        """A step's effects as :class:`~actors.EffectsInterpreter` carries them out
        (cancels, timers: arming a key again moves it; notes, sends), and the party's
        snapshot after it."""
        address = self.addresses[actor]
        for note in effects.notes:
            events.append(TraceEvent(now, _NOTE, address, address, note=note))
        flights = []
        for send in effects.sends:
            events.append(TraceEvent(now, _SEND, address, send.to, send.message))
            if send.to in self._index:
                flights.append(self._flight_id(Flight(address, send.to, send.message)))
        snap = self._snapshot(actor)
        number = self._snapshot_ids.get(snap)
        if number is None:
            number = self._snapshot_ids[snap] = len(self._snapshots)
            self._snapshots.append(snap)
        return _Move(
            number,
            tuple(events),
            tuple(self._slot(actor, key) for key in effects.cancels),
            tuple(
                (self._slot(actor, t.key), self._timer_id(actor, t.key, t.at))
                for t in effects.timers
            ),
            tuple(flights),
            marks | _marks(events),
            restarted=restarted,
        )

    def _child(  # noqa: PLR0917 - positional on the hot path: a state's parts, no dict per call
        self,
        state: WorldState,
        actor: int,
        move: _Move,
        now: float,
        network: tuple[int, ...],
        timers: frozenset[int],
        budgets: tuple[int, int, int],
    ) -> WorldState:
        """The state after ``move`` of ``actor`` from ``state``, whose network and timers
        (the message delivered or the timer fired taken out) are ``network``, ``timers``."""
        trail = _new(_Trail, (move.events, state.trail))
        monitor = self._next_monitor(state, move.events)
        if move.snap is None:
            return WorldState((*state.key, move.error), trail, _NO_MARKS, move.error, monitor)
        if move.restarted or move.cancels or move.arms:
            timed = (actor if move.restarted else -1, move.cancels, move.arms, timers)
            found = self._timed_moves.get(timed)
            if found is None:
                found = self._timed(actor, move, timers)
                if len(self._timed_moves) >= _MOVES_KEPT:
                    self._timed_moves.clear()  # a cache: the memory is for the visited set
                self._timed_moves[timed] = found
            timers = found
        if move.flights:
            network = tuple(sorted(network + move.flights))
        actors = state.key[1]
        snaps = (*actors[:actor], move.snap, *actors[actor + 1 :])
        key = (now, snaps, timers, network, budgets)
        return _new(WorldState, (key, trail, move.marks, None, monitor))

    def _timed(self, actor: int, move: _Move, timers: frozenset[int]) -> frozenset[int]:
        """``timers`` after ``move``: its cancels, then its timers (arming a key again
        moves it); a restarted party's timers died with it."""
        slot_of = self._slot_of
        armed = {slot_of[t]: t for t in timers}
        if move.restarted:
            table = self._timers
            armed = {slot: t for slot, t in armed.items() if table[t][0] != actor}
        for slot in move.cancels:
            armed.pop(slot, None)
        for slot, t in move.arms:
            armed[slot] = t
        return frozenset(armed.values())

    def _flight_id(self, item: Flight) -> int:
        fid = self._flight_ids.get(item)
        if fid is None:
            fid = self._flight_ids[item] = len(self._flights)
            self._flights.append(item)
        return fid

    def _timer_id(self, actor: int, key: Hashable, at: float) -> int:
        part = (actor, key, at)
        t = self._timer_ids.get(part)
        if t is None:
            t = self._timer_ids[part] = len(self._timers)
            self._timers.append(part)
            self._slot_of.append(self._slot(actor, key))
        return t

    def _slot(self, actor: int, key: Hashable) -> int:
        return self._slots.setdefault((actor, key), len(self._slots))

    def _snapshot(self, actor: int) -> Snapshot:
        machine = self._live[actor]
        try:
            if actor == 0:
                return Snapshot(
                    (
                        freeze_attributes(self._base, _STORE_SKIP),
                        freeze_attributes(machine, _CLOUD_KEEPS),
                    )
                )
            skip = _POS_CONSTANTS if actor <= len(self._poses) else _PHONE_CONSTANTS
            return Snapshot(freeze_attributes(machine, skip))
        except TypeError as exc:
            raise ExploreError(
                f"cannot explore {type(machine).__name__} of {self.addresses[actor]}: {exc} "
                "(a party's attributes must be plain data: numbers, text, containers, "
                "frozen values)"
            ) from None

    def _restore(self, actor: int, snap: int) -> Any:
        machine = self._live[actor]
        value = self._snapshots[snap].value
        if actor == 0:
            store, memory = value
            thaw_attributes(self._base, store)
            thaw_attributes(machine, memory)
        else:
            thaw_attributes(machine, value)
        return machine

    # ------------------------------------------------------------------ symmetry

    def _renamed(self, key: tuple[Any, ...], monitor: Sequence[int] | None = None) -> list[int]:
        """The hash of ``key``'s canonical form under each renaming: per kind of part (the
        parties' snapshots, the armed timers, the messages in flight), the hash of the
        sorted hashes of its parts' canonical texts. The kinds' texts never coincide, so
        this is the multiset of all parts; each kind's hashes are cached by its value
        (the snapshots' tuple, the timers' frozenset, the network's tuple). ``monitor``:
        the checker state's canonical hashes, one per renaming, hashed in with them."""
        now, actors, timers, network, budgets = key
        by_parties, by_timers, by_network = self._groups
        n = len(self._renamings)
        parties = by_parties.get(actors)
        if parties is None:
            parties = by_parties[actors] = _sorted_hashes(self._parties_renamed(actors), n)
        armed = by_timers.get(timers)
        if armed is None:
            armed = by_timers[timers] = _sorted_hashes([self._timer_renamed(t) for t in timers], n)
        flying = by_network.get(network)
        if flying is None:  # a message twice in flight: its part twice
            rows = [self._flight_renamed(fid) for fid in network]
            flying = by_network[network] = _sorted_hashes(rows, n)
        if len(by_parties) + len(by_network) > _TEXTS_KEPT:
            for cache in self._groups:
                cache.clear()  # a cache: the memory of a long search is for its visited set
        if monitor is None:
            return [
                hash((now, budgets, *kinds)) for kinds in zip(parties, armed, flying, strict=True)
            ]
        return [
            hash((now, budgets, *kinds))
            for kinds in zip(parties, armed, flying, monitor, strict=True)
        ]

    def _parties_renamed(self, actors: tuple[int, ...]) -> list[tuple[int, ...]]:
        """Each party's snapshot's text hashes, per renaming, each made once: the text of
        the snapshot renamed (renamed first, its sets sorted after), so that a state and
        each of its renamings have the same hashes, in another order."""
        rows = []
        for i, snap in enumerate(actors):
            found = self._snap_texts[i].get(snap)  # two parties' equal snapshots differ by name
            if found is None:
                value = self._snapshots[snap].value
                groups = value if i == 0 else (value,)  # the cloud's: its store, its memory
                found = tuple(
                    [
                        hash(
                            (
                                self.addresses[moved_to[i]],
                                *[self._attributes_renamed(items, n) for items in groups],
                            )
                        )
                        for n, moved_to in enumerate(self._moved_to)
                    ]
                )
                self._snap_texts[i][snap] = found
            rows.append(found)
        if len(self._snap_texts[0]) > _TEXTS_KEPT:
            for cache in self._snap_texts:
                cache.clear()
        return rows

    def _attributes_renamed(self, items: tuple[tuple[str, Any], ...], n: int) -> tuple[int, ...]:
        """The hash of each (name, frozen value) attribute of a snapshot in canonical form
        under renaming ``n`` (``_canon_value``), each distinct attribute made once: a step
        changes a few of a party's attributes, so a new snapshot costs those alone (the
        rest are found by value, hashed in C). An attribute equal to one seen before
        (``==``) has its form, as a snapshot equal to one seen has its number."""
        memo = self._attribute_forms[n]
        forms = []
        for item in items:
            form = memo.get(item)
            if form is None:
                if len(memo) >= _TEXTS_KEPT:
                    memo.clear()  # a cache: the memory of a long search is for its states
                form = memo[item] = hash(
                    _canon_value(item, self._names[n]) if n else _canon_value(item)
                )
            forms.append(form)
        return tuple(forms)

    def _timer_renamed(self, t: int) -> tuple[int, ...]:
        found = self._texts.get(-1 - t)  # timers' numbers stored negative, messages' not
        if found is None:
            actor, timer, at = self._timers[t]
            text = f"T{self.addresses[actor]}|{timer!r}|{at!r}"
            found = self._texts[-1 - t] = self._rename_all(text)
        return found

    def _flight_renamed(self, fid: int) -> tuple[int, ...]:
        found = self._texts.get(fid)
        if found is None:
            found = self._texts[fid] = self._rename_all(_canon(self._flights[fid]))
        return found

    def _rename_all(self, text: str) -> tuple[int, ...]:
        """The hash of ``text`` under each renaming (hashes sort faster than texts)."""
        return tuple(hash(rename(text)) for rename in self._renamings)


class _Mirrors:
    """The transitions of a state that renamings map onto itself (``stabilizer``: their
    numbers, a group: the inverse of each is one of them), by group of transitions made
    so far (a message's, a timer's, a party's crash), each by its part's form under the
    identity: a group whose part, renamed by one of them, is an earlier group's part
    mirrors that group, transition for transition."""

    __slots__ = ("_groups", "_stabilizer")

    def __init__(self, stabilizer: tuple[int, ...]) -> None:
        self._stabilizer = stabilizer
        self._groups: dict[tuple[str, int], list[Step]] = {}

    def of(self, kind: str, forms: Sequence[int]) -> list[Step] | None:
        """The steps of the earlier group that a group mirrors, if any (``forms``: its
        part's form under each renaming, ``forms[n]`` renamed by the n-th)."""
        for n in self._stabilizer:
            done = self._groups.get((kind, forms[n]))
            if done is not None:
                return done
        return None

    def made(self, kind: str, form: int) -> list[Step]:
        """The list to which a group's steps are added as they are made."""
        group = self._groups[kind, form] = []
        return group


def _sorted_hashes(rows: Sequence[tuple[int, ...]], renamings: int) -> tuple[int, ...]:
    """Per renaming (a column of ``rows``: one row per part), the hash of the sorted
    column: a multiset's hash."""
    if not rows:
        return (hash(()),) * renamings
    return tuple([hash(tuple(sorted(column))) for column in zip(*rows, strict=True)])


def _marks(events: Iterable[TraceEvent]) -> frozenset[str]:
    marks: set[str] = set()
    for ev in events:
        if ev.kind is _SEND and ev.sender == CLOUD:
            message = ev.message
            if isinstance(message, AssociationPush):
                marks.add(DUAL_SEND if message.reason == "dual-send" else TIMEOUT_PUSH)
            elif isinstance(message, AssociationResponse):
                marks.add(PULL_ANSWERED)
    return frozenset(marks)


def _canon_renamed(value: Any, rename: Callable[[str], str], digests: dict[bytes, str]) -> str:
    """A monitor cell's text under ``rename``: its atoms renamed, its sets sorted after,
    a body's digest replaced by the body's renamed text (equal digests, equal bodies)."""
    cls = type(value)
    if cls is frozenset:
        return "{" + ",".join(sorted([_canon_renamed(v, rename, digests) for v in value])) + "}"
    if isinstance(value, tuple):
        inner = ",".join([_canon_renamed(v, rename, digests) for v in value])
        return f"{cls.__name__}({inner})"
    if cls is bytes:
        body = digests.get(value)
        if body is not None:
            return "#" + rename(body)
    if cls in _NAMELESS:  # a number's, a flag's or None's text holds no name
        return repr(value)
    return rename(repr(value))


def _digest(message: Message) -> str:
    return hashlib.blake2b(repr(message).encode(), digest_size=4).hexdigest()


def _canon_value(value: Any, rename: Callable[[Any], Any] | None = None) -> Hashable:
    """A value equal for equal snapshots whatever the order of their dicts and sets (a
    dict's items, a set's members as a frozenset): what :func:`_canon` writes as text, made
    of hashable values instead (a message's hash is computed once, no text is built).
    ``rename``: a :class:`~scenarios._explore._rename.Renaming`, applied to each atom on
    the way (the containers walked once: as renaming the value first, then this)."""
    cls = type(value)
    if cls is _Dict or isinstance(value, frozenset):
        return frozenset([_canon_value(v, rename) for v in value])
    if isinstance(value, tuple):
        return tuple([_canon_value(v, rename) for v in value])
    kept: Hashable = value if rename is None else rename(value)  # an atom, a class, a message
    return kept


def _canon(value: Any) -> str:
    """A text equal for equal values, whatever the iteration order of their sets (and,
    under symmetry, of their dicts: which of two symmetric receipts was stored first
    does not matter to the protocol)."""
    if isinstance(value, frozenset):
        return "{" + ",".join(sorted(_canon(v) for v in value)) + "}"
    if isinstance(value, Snapshot):
        return _canon(value.value)
    if isinstance(value, _Dict):
        return "{" + ",".join(sorted(_canon(v) for v in value)) + "}"
    if isinstance(value, tuple):
        return "(" + ",".join(_canon(v) for v in value) + ")"
    return repr(value)


def _renamings(world: ExploreWorld) -> list[dict[str, str]]:
    """One mapping of names per permutation of the symmetric purchases (none: no symmetry),
    the identity first: each swaps the purchases' receipt ids, their phones and their
    shops together."""
    groups = world.symmetric_groups()
    if not groups:
        return []
    tokens: list[tuple[str, str, str]] = []  # per purchase: receipt, phone, shop
    for i, p in enumerate(world.purchases):
        tokens.append((p.receipt_id, p.buyer, f"shop-{i + 1}"))
    perms_per_group = [list(itertools.permutations(g)) for g in groups]
    mappings: list[dict[str, str]] = []
    for choice in itertools.product(*perms_per_group):
        mapping: dict[str, str] = {}
        for group, perm in zip(groups, choice, strict=True):
            for src, dst in zip(group, perm, strict=True):
                for a, b in zip(tokens[src], tokens[dst], strict=True):
                    mapping[a] = b
        mappings.append(mapping)
    return mappings
