"""No fault that silently does nothing: before a run, every address pattern of a fault
must match an actor; after it, every configured fault must have injected something.

:func:`check_fault_plan` refuses a ``[[partition]]`` ``side``/``other``, a
``[[network.link]]`` ``between`` or a ``[[crash]]`` ``actor`` pattern that matches none of
the world's addresses, with a did-you-mean (:class:`~actors.FaultPlanError`, one line).

:func:`idle_faults` names, after a run, each configured fault that injected nothing: a
loss, duplicate or reorder rate above 0 (network-wide or of a link entry) with no such
event, a link entry that carried no message, a partition that cut no message, a crash
entry whose actors did not all crash, or each of whose crashes lost nothing (no timer
armed, no message waiting or reaching the actor while down). The network's share comes from the
:class:`~actors.SimNetwork`'s own counts; crashes from a :class:`CrashTally` observer
that saw the run.

Entries are named as a scenario file names them, numbered from 1 in their table:
``[[partition]] #2``.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from protocol import Address

from ._errors import FaultPlanError
from ._faults import Crash, NetworkConfig, Partition
from ._simnet import FAULT_KNOBS, SimNetwork
from ._trace import EventKind, TraceEvent

if TYPE_CHECKING:
    from ._world import FallenCrash, World

__all__ = [
    "CrashTally",
    "IdleFault",
    "check_fault_plan",
    "idle_faults",
    "no_actor_matches",
]


# ------------------------------------------------------------------ before the run


def _fault_patterns(
    network: NetworkConfig | None, partitions: Sequence[Partition], crashes: Sequence[Crash]
) -> Iterator[tuple[str, str]]:
    """(where, pattern) of every address pattern of the plan, in file order."""
    if network is not None:
        for number, link in enumerate(network.link, 1):
            for pattern in link.between:
                yield f"[[network.link]] #{number} between", pattern
    for number, partition in enumerate(partitions, 1):
        for pattern in partition.side:
            yield f"[[partition]] #{number} side", pattern
        for pattern in partition.other:
            yield f"[[partition]] #{number} other", pattern
    for number, crash in enumerate(crashes, 1):
        yield f"[[crash]] #{number} actor", crash.actor


def check_fault_plan(
    addresses: Collection[Address],
    *,
    network: NetworkConfig | None = None,
    partitions: Sequence[Partition] = (),
    crashes: Sequence[Crash] = (),
) -> None:
    """Raise :class:`~actors.FaultPlanError` for the first address pattern of ``network``'s
    links, ``partitions`` or ``crashes`` that matches none of ``addresses``."""
    checked: set[str] = set()
    for where, pattern in _fault_patterns(network, partitions, crashes):
        if pattern in checked:
            continue
        if not any(fnmatch.fnmatchcase(address, pattern) for address in addresses):
            raise no_actor_matches(where, pattern, addresses)
        checked.add(pattern)


def no_actor_matches(where: str, pattern: str, addresses: Collection[Address]) -> FaultPlanError:
    """The error for ``pattern`` (of ``where``) matching none of ``addresses``: one line,
    with the closest address or address pattern (difflib) when one is close enough."""
    close = difflib.get_close_matches(pattern, _candidates(addresses), n=1, cutoff=0.6)
    if close:
        hint = f"did you mean {close[0]!r}?"
    else:
        examples = ", ".join(repr(a) for a in _examples(addresses))
        hint = (
            f"the actors are cloud, pos:MERCHANT:POS and phone:ID (here e.g. {examples}); "
            "patterns may use * and ?"
        )
    return FaultPlanError(f"{where}: pattern {pattern!r} matches no actor; {hint}")


def _candidates(addresses: Collection[Address]) -> list[str]:
    """The addresses, and the patterns that name groups of them (``pos:*``, ``phone:*``,
    ``pos:MERCHANT:*``), for the did-you-mean."""
    groups: dict[str, None] = {}
    for address in addresses:
        kind, _, rest = address.partition(":")
        if rest:
            groups[f"{kind}:*"] = None
            if kind == "pos":
                groups[f"pos:{rest.partition(':')[0]}:*"] = None
    return [*groups, *addresses]


def _examples(addresses: Collection[Address]) -> list[Address]:
    seen: dict[str, Address] = {}
    for address in addresses:
        seen.setdefault(address.partition(":")[0], address)
    return list(seen.values())


# ------------------------------------------------------------------ after the run


class CrashTally:
    """An observer counting the crash events of each actor in a run, and the messages
    each crash dropped (its mailbox, and what reached the actor while it was down)."""

    def __init__(self) -> None:
        self.crashes: Counter[Address] = Counter()
        self.dropped: Counter[tuple[Address, float]] = Counter()  # (actor, crashed at) ->
        self._down_since: dict[Address, float] = {}

    def __call__(self, event: TraceEvent) -> None:
        kind = event.kind
        if kind is EventKind.CRASH:
            self.crashes[event.sender] += 1
            self._down_since[event.sender] = event.t
        elif kind is EventKind.DROP and event.detail == "down":
            since = self._down_since.get(event.recipient)
            if since is not None:
                self.dropped[(event.recipient, since)] += 1
        elif kind is EventKind.RESTART:
            self._down_since.pop(event.sender, None)


@attrs.frozen
class IdleFault:
    """A configured fault that injected nothing in a run.

    ``what`` names the fault as the scenario file has it (``[network] loss = 0.2``,
    ``[[partition]] #1 (side ["cloud"], 1h to 1h5m)``): the same for every run of the
    scenario, so runs of a sweep can be grouped by it. ``why`` says what happened."""

    what: str
    why: str

    def __str__(self) -> str:
        return f"{self.what} {self.why}"


def idle_faults(
    world: World, crashes: Sequence[Crash] = (), tally: CrashTally | None = None
) -> list[IdleFault]:
    """Each fault configured for ``world``'s finished run that injected nothing.

    The network's faults and partitions are read from the world's transport (when it is
    a :class:`~actors.SimNetwork`; else none was configured). ``crashes`` are the crash
    entries scheduled on the world, ``tally`` a :class:`CrashTally` that observed the
    whole run (required when ``crashes`` is not empty)."""
    found: list[IdleFault] = []
    network = world.transport
    if isinstance(network, SimNetwork):
        found += _idle_network(network)
        found += _idle_partitions(network)
    if crashes:
        if tally is None:
            raise FaultPlanError("idle_faults: crash entries need the CrashTally of the run")
        addresses = list(world.actors)
        found += _idle_crashes(addresses, crashes, tally.crashes)
        short = _short_crashes(addresses, crashes, tally.crashes)
        named = {number for entries in short for number in entries}
        found += _crashes_that_lost_nothing(world.crashes_fallen, crashes, tally, named)
    return found


def _crashes_that_lost_nothing(
    fallen: Sequence[FallenCrash],
    crashes: Sequence[Crash],
    tally: CrashTally,
    named: Collection[int],
) -> list[IdleFault]:
    """The crash entries (between steps) each of whose crashes lost nothing: the actor had
    no timer armed and nothing in its mailbox, and no message reached it while it was
    down (a crash after the run's work was over, reviewer B's F2): its restart rebuilt a
    machine that had lost nothing, as if it had never crashed. An entry named already
    (some of its actors never crashed) is not named twice."""
    by_entry: dict[int, list[FallenCrash]] = {}
    for one in fallen:
        by_entry.setdefault(one.entry, []).append(one)
    found: list[IdleFault] = []
    for number, fell in sorted(by_entry.items()):
        crash = crashes[number - 1]
        if number in named or crash.inside_step:
            continue
        what = f'[[crash]] #{number} (actor "{crash.actor}", at {crash.at:g}s)'
        if any(c.timers_lost or tally.dropped[(c.address, c.t)] for c in fell):
            continue
        actors = sorted({c.address for c in fell})
        found.append(
            IdleFault(
                what,
                f"lost nothing: {_some(actors)} had no timer armed and no message waiting "
                "at the crash, and no message arrived while down (after the run's work was "
                "over, it tests no recovery; in a lull, only the work after its restart does)",
            )
        )
    return found


_DID = {"loss": "dropped", "duplicate": "duplicated", "reorder": "held back"}


def _idle_network(network: SimNetwork) -> list[IdleFault]:
    config = network.config
    found: list[IdleFault] = []
    counts = network.knob_counts()
    sent_by_link = network.sent_by_link()
    until = config.faults_until
    phase = "the run" if until is None else f"the fault phase (its first {until:g}s)"
    for source in range(-1, len(config.link)):
        if source == -1:
            label = "[network]"
        else:
            link = config.link[source]
            a, b = link.between
            label = f"[[network.link]] #{source + 1} (between {a} and {b})"
            if sent_by_link[source] == 0:
                found.append(
                    IdleFault(
                        label,
                        "carried no message: no two actors it covers exchanged one "
                        "(a link is covered by the first entry that matches it)",
                    )
                )
                continue
        for knob in FAULT_KNOBS:
            rate = getattr(config if source == -1 else config.link[source], knob)
            if not rate:
                continue
            exposed, injected, held_back = counts.get((knob, source), (0, 0, 0))
            if injected:
                continue
            did = _DID[knob]
            if held_back:
                why = (
                    f"held back {held_back} of the {exposed} messages sent under it during "
                    f"{phase}, and none of them arrived after a message sent later on the "
                    "same link: it reordered nothing (a link that carries one message at a "
                    "time has nothing to reorder)"
                )
            elif exposed:
                why = f"{did} none of the {exposed} messages sent under it during {phase}"
            elif source == -1 and any(getattr(link, knob) is not None for link in config.link):
                why = (
                    f"{did} no message: none was sent under it during {phase}; links with "
                    f"their own {knob} in a [[network.link]] do not use it"
                )
            else:
                why = f"{did} no message: none was sent under it during {phase}"
            found.append(IdleFault(f"{label} {knob} = {rate:g}", why))
    return found


def _idle_partitions(network: SimNetwork) -> list[IdleFault]:
    found: list[IdleFault] = []
    for number, (partition, cut) in enumerate(
        zip(network.partitions, network.cut_by_partition(), strict=True), 1
    ):
        if cut:
            continue
        side = ", ".join(partition.side)
        other = "" if partition.other == ("*",) else f", other [{', '.join(partition.other)}]"
        what = (
            f"[[partition]] #{number} (side [{side}]{other}, "
            f"{partition.start:g}s to {partition.end:g}s)"
        )
        found.append(IdleFault(what, "cut no message: nothing was sent across it while it lasted"))
    return found


def _short_crashes(
    addresses: Sequence[Address], crashes: Sequence[Crash], happened: Mapping[Address, int]
) -> dict[tuple[int, ...], list[Address]]:
    """An actor matched by k crash entries must have crashed k times: the actors that
    crashed fewer times, by the entries (numbered from 1) that matched them."""
    short: dict[tuple[int, ...], list[Address]] = {}
    for address in addresses:
        entries = tuple(
            number
            for number, crash in enumerate(crashes, 1)
            if fnmatch.fnmatchcase(address, crash.actor)
        )
        if entries and happened.get(address, 0) < len(entries):
            short.setdefault(entries, []).append(address)
    return short


def _idle_crashes(
    addresses: Sequence[Address],
    crashes: Sequence[Crash],
    happened: Mapping[Address, int],
) -> list[IdleFault]:
    """The entries of the actors that crashed fewer times than entries matched them
    (:func:`_short_crashes`), with the actors they matched and left up."""
    short = _short_crashes(addresses, crashes, happened)
    found: list[IdleFault] = []
    # An armed crash point has no deadline: its `restart` only says how long it stays down.
    hint = (
        "(an actor still down from an earlier crash is not crashed again, and a crash "
        "inside a step needs a step of its kind making that many store writes after its "
        "`at`, at any time before the run ends)"
    )
    for entries, missed in short.items():
        if len(entries) == 1:
            number = entries[0]
            crash = crashes[number - 1]
            matched = sum(fnmatch.fnmatchcase(a, crash.actor) for a in addresses)
            what = f'[[crash]] #{number} (actor "{crash.actor}", at {crash.at:g}s)'
            crashed = matched - len(missed)
            why = (
                f"crashed {crashed} of the {matched} actor{'s' if matched != 1 else ''} it "
                f"matches; never crashed: {_some(missed)} {hint}"
            )
        else:
            numbers = ", ".join(f"#{number}" for number in entries)
            what = f"[[crash]] {numbers}"
            counts = sorted({happened.get(a, 0) for a in missed})
            why = (
                f"armed {len(entries)} crashes of {_some(missed)}, which crashed only "
                f"{' or '.join(str(c) for c in counts)} time(s) {hint}"
            )
        found.append(IdleFault(what, why))
    return found


def _some(addresses: Sequence[Address], shown: int = 3) -> str:
    names = ", ".join(addresses[:shown])
    more = len(addresses) - shown
    return names if more <= 0 else f"{names} and {more} more"
