"""What can go wrong, as values: the network's misbehaviour, partitions and crashes.

These are plain, validated settings. :class:`~actors.SimNetwork` carries out a
:class:`NetworkConfig` and the :class:`Partition` entries; a :class:`~actors.World` carries
out the :class:`Crash` entries. Addresses are matched with shell-style patterns
(``"cloud"``, ``"pos:*"``, ``"phone:+861380000000?"``).
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Sequence
from typing import Any

import attrs

from protocol import (
    Address,
)
from protocol.lowlevel import (
    ConfigValidators,
)

from ._errors import FaultPlanError
from ._step import STEP_KINDS

__all__ = ["Crash", "Link", "NetworkConfig", "Partition", "matches"]


def matches(address: Address, patterns: Sequence[str]) -> bool:
    """Does ``address`` match any of the shell-style ``patterns``?"""
    return any(fnmatch.fnmatchcase(address, pattern) for pattern in patterns)


_check = ConfigValidators(FaultPlanError, qualified=False)  # the loader adds the dotted path
_seconds = _check.duration()
_fraction = _check.fraction()
_maybe_seconds = attrs.validators.optional(_seconds)  # a link's None: the network's setting
_maybe_fraction = attrs.validators.optional(_fraction)


def _patterns(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value or not all(isinstance(p, str) and p for p in value):
        raise FaultPlanError(
            f"{attribute.name}: expected a list of address patterns such as "
            f'["cloud"] or ["phone:*"], got {list(value)!r}'
        )


@attrs.frozen
class Link:
    """Settings for the links between addresses matching ``between[0]`` and ``between[1]``
    (either direction); a setting left out keeps the network-wide one."""

    between: tuple[str, str] = attrs.field(validator=_patterns)
    latency: float | None = attrs.field(default=None, validator=_maybe_seconds)
    jitter: float | None = attrs.field(default=None, validator=_maybe_seconds)
    loss: float | None = attrs.field(default=None, validator=_maybe_fraction)
    duplicate: float | None = attrs.field(default=None, validator=_maybe_fraction)
    reorder: float | None = attrs.field(default=None, validator=_maybe_fraction)

    @between.validator
    def _two(self, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
        if len(value) != 2:
            raise FaultPlanError(
                f'between: expected two patterns, e.g. ["cloud", "phone:*"], got {list(value)!r}'
            )

    def covers(self, sender: Address, recipient: Address) -> bool:
        a, b = self.between
        return (fnmatch.fnmatchcase(sender, a) and fnmatch.fnmatchcase(recipient, b)) or (
            fnmatch.fnmatchcase(sender, b) and fnmatch.fnmatchcase(recipient, a)
        )


@attrs.frozen
class NetworkConfig:
    """How the simulated network carries each message.

    A message takes ``latency`` plus a uniform draw from ``[0, jitter]`` seconds. During the
    fault phase (until ``faults_until``; ``None``: the whole run) it is lost with
    probability ``loss``, copied once more with probability ``duplicate`` and held back by a
    further uniform draw from ``[0, reorder_delay]`` with probability ``reorder`` (so later
    messages overtake it). After the fault phase the network still has its latency but
    loses, duplicates and reorders nothing: the healed phase. ``link`` entries override
    these settings for some links; the first entry that covers a link wins.
    """

    latency: float = attrs.field(default=0.0, validator=_seconds)
    jitter: float = attrs.field(default=0.0, validator=_seconds)
    loss: float = attrs.field(default=0.0, validator=_fraction)
    duplicate: float = attrs.field(default=0.0, validator=_fraction)
    reorder: float = attrs.field(default=0.0, validator=_fraction)
    reorder_delay: float = attrs.field(default=1.0, validator=_seconds)
    faults_until: float | None = attrs.field(default=None, validator=_maybe_seconds)
    link: tuple[Link, ...] = ()

    def __attrs_post_init__(self) -> None:
        # A hold-back of 0 s delivers the message when it would arrive anyway: the run would
        # count "reordered" messages that nothing overtook.
        if self.reorder_delay > 0:
            return
        rates: list[tuple[str, float | None]] = [("[network]", self.reorder)]
        rates += [(f"[[network.link]] #{n}", link.reorder) for n, link in enumerate(self.link, 1)]
        for where, rate in rates:
            if rate:
                raise FaultPlanError(
                    f"{where} reorder = {rate:g} would hold nothing back: reorder_delay is "
                    "0, so a held-back message arrives when it would anyway; set "
                    "reorder_delay above 0, or reorder = 0"
                )

    @property
    def is_perfect(self) -> bool:
        """No latency and no faults anywhere: the in-memory transport does the same."""
        values: list[float | None] = [self.latency, self.jitter, self.loss]
        values += [self.duplicate, self.reorder]
        for link in self.link:
            values += [link.latency, link.jitter, link.loss, link.duplicate, link.reorder]
        return not any(values)


@attrs.frozen
class Partition:
    """From ``start`` to ``end``, addresses matching ``side`` cannot exchange messages with
    addresses matching ``other`` (default: every address not on ``side``)."""

    side: tuple[str, ...] = attrs.field(validator=_patterns)
    start: float = attrs.field(validator=_seconds)
    end: float = attrs.field(validator=_seconds)
    other: tuple[str, ...] = attrs.field(default=("*",), validator=_patterns)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise FaultPlanError(
                f"partition of {list(self.side)}: end ({self.end:g}s) must come after "
                f"start ({self.start:g}s); every partition heals"
            )

    def cuts(self, sender: Address, recipient: Address) -> bool:
        """Does this partition separate ``sender`` from ``recipient`` (while it lasts)?"""
        side, other = self.side, self.other
        if matches(sender, side):
            return not matches(recipient, side) and matches(recipient, other)
        if matches(recipient, side):
            return matches(sender, other)
        return False


def _step_kind(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or value not in STEP_KINDS:
        close = difflib.get_close_matches(str(value), sorted(STEP_KINDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise FaultPlanError(
            f"{attribute.name}: {value!r} is no kind of step (expected one of "
            f"{', '.join(sorted(STEP_KINDS))}){hint}"
        )


@attrs.frozen
class Crash:
    """The actors matching ``actor`` crash at ``at`` and restart at ``restart``.

    A crash loses the actor's timers and everything in its mailbox or arriving while it is
    down; a restart rebuilds it from what it keeps durably (the cloud: its store).

    ``after_writes = 0`` (the default) crashes between two steps, at ``at``. With
    ``after_writes = k >= 1`` the crash falls *inside* a step, as a kill -9 can: armed at
    ``at``, it fires right after the k-th store write of the next step of kind ``during``
    (any kind if None; see :data:`~actors.STEP_KINDS`) that makes k writes, and the actor
    stays down for ``restart - at`` seconds from then. If no such step comes, nothing
    crashes (a run's report then counts fewer crashes than entries matched).
    """

    actor: str = attrs.field(validator=attrs.validators.min_len(1))
    at: float = attrs.field(validator=_seconds)
    restart: float = attrs.field(validator=_seconds)
    after_writes: int = attrs.field(default=0, validator=_check.whole_number(0))
    during: str | None = attrs.field(default=None, validator=_step_kind)

    def __attrs_post_init__(self) -> None:
        if self.restart <= self.at:
            raise FaultPlanError(
                f"crash of {self.actor}: restart ({self.restart:g}s) must come after the "
                f"crash ({self.at:g}s); every crashed actor restarts"
            )
        if self.during is not None and not self.after_writes:
            raise FaultPlanError(
                f"crash of {self.actor}: during = {self.during!r} needs after_writes >= 1 "
                "(a crash inside a step of that kind, after that many store writes)"
            )

    @property
    def inside_step(self) -> bool:
        """Does this crash fall inside a step (after a store write)?"""
        return self.after_writes > 0
