"""Observing a run without a :class:`TraceEvent` per event, for whoever folds it.

A plain :class:`~actors.Observer` takes every event as a :class:`TraceEvent`. An
:class:`EventSink` takes the four events of every step (a message sent, a message
received, a note, a timer fired: about 17 per purchase) as method calls with their
fields, and only the rare ones (faults, a failed send) as a :class:`TraceEvent`. A run's
report folds every event, so building and unpacking a tuple per event was most of what
observing cost (``bench/simpy_peer.py``). The drivers (:class:`~actors.Actor`, the
:class:`~actors.EffectsInterpreter`) observe through :func:`taps_of`: the sink's methods,
or, for a plain observer, calls that build the :class:`TraceEvent` it wants. The events,
their order and their fields are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import NamedTuple

from protocol import Address, Message, Note

from ._trace import EventKind, Observer, TraceEvent, fan_out

__all__ = ["EventSink", "Taps", "observe_all", "taps_of"]

MessageTap = Callable[[float, Address, Address, Message], None]
"""``tap(t, sender, recipient, message)``: a message sent, or received."""
NoteTap = Callable[[float, Address, Note], None]
"""``tap(t, actor, note)``: a note the actor's machine made."""
TimerTap = Callable[[float, Address, Hashable], None]
"""``tap(t, actor, key)``: a timer of the actor's machine fired."""

_SEND, _RECEIVE = EventKind.SEND, EventKind.RECEIVE
_NOTE, _TIMER = EventKind.NOTE, EventKind.TIMER


class EventSink:
    """An observer taking a step's events as calls: subclass and define all five.

    :meth:`sent`, :meth:`received`, :meth:`noted` and :meth:`fired` are the events
    ``send``, ``recv``, ``note`` and ``timer``; ``__call__`` takes every event as a
    :class:`TraceEvent` (the rare kinds from the drivers, and any kind from elsewhere,
    such as a trace file read back), so a sink is an :class:`~actors.Observer` too.
    """

    __slots__ = ()

    def sent(self, t: float, sender: Address, recipient: Address, message: Message) -> None:
        raise NotImplementedError

    def received(self, t: float, sender: Address, recipient: Address, message: Message) -> None:
        raise NotImplementedError

    def noted(self, t: float, actor: Address, note: Note) -> None:
        raise NotImplementedError

    def fired(self, t: float, actor: Address, key: Hashable) -> None:
        raise NotImplementedError

    def __call__(self, event: TraceEvent) -> None:
        raise NotImplementedError


class Taps(NamedTuple):
    """How a driver reports each kind of event (None: nobody observes)."""

    sent: MessageTap | None
    received: MessageTap | None
    noted: NoteTap | None
    fired: TimerTap | None
    event: Observer | None  # every other kind, as a TraceEvent


_NO_TAPS = Taps(None, None, None, None, None)


def taps_of(observer: Observer | None) -> Taps:
    """The taps of ``observer``: a sink's methods, or calls building its TraceEvents."""
    if observer is None:
        return _NO_TAPS
    if isinstance(observer, EventSink):
        return Taps(observer.sent, observer.received, observer.noted, observer.fired, observer)
    return Taps(*_event_taps(observer), observer)


def _event_taps(observe: Observer) -> tuple[MessageTap, MessageTap, NoteTap, TimerTap]:
    """The four taps of a plain observer: each builds the TraceEvent it stands for."""

    def sent(t: float, sender: Address, recipient: Address, message: Message) -> None:
        observe(TraceEvent(t, _SEND, sender, recipient, message))

    def received(t: float, sender: Address, recipient: Address, message: Message) -> None:
        observe(TraceEvent(t, _RECEIVE, sender, recipient, message))

    def noted(t: float, actor: Address, note: Note) -> None:
        observe(TraceEvent(t, _NOTE, actor, actor, None, note))

    def fired(t: float, actor: Address, key: Hashable) -> None:
        observe(TraceEvent(t, _TIMER, actor, actor, None, None, key))

    return sent, received, noted, fired


def observe_all(observers: Iterable[Observer]) -> Observer:
    """One observer passing every event to each of ``observers`` in order, as
    :func:`~actors.fan_out` does; an :class:`EventSink` if any of them is one, so that
    the sinks are called without a TraceEvent (built once for the plain ones)."""
    targets = tuple(observers)
    if not any(isinstance(target, EventSink) for target in targets):
        return fan_out(targets)
    if len(targets) == 1:
        return targets[0]
    return _FanOut(targets)


class _FanOut(EventSink):
    """Sinks called directly, in order with the plain observers (one event each)."""

    __slots__ = ("_fired", "_noted", "_received", "_sent", "_targets")

    def __init__(self, targets: tuple[Observer, ...]) -> None:
        self._targets = targets
        taps = [taps_of(target) for target in targets]
        self._sent = tuple(t.sent for t in taps if t.sent is not None)
        self._received = tuple(t.received for t in taps if t.received is not None)
        self._noted = tuple(t.noted for t in taps if t.noted is not None)
        self._fired = tuple(t.fired for t in taps if t.fired is not None)

    def sent(self, t: float, sender: Address, recipient: Address, message: Message) -> None:
        for tap in self._sent:
            tap(t, sender, recipient, message)

    def received(self, t: float, sender: Address, recipient: Address, message: Message) -> None:
        for tap in self._received:
            tap(t, sender, recipient, message)

    def noted(self, t: float, actor: Address, note: Note) -> None:
        for tap in self._noted:
            tap(t, actor, note)

    def fired(self, t: float, actor: Address, key: Hashable) -> None:
        for tap in self._fired:
            tap(t, actor, key)

    def __call__(self, event: TraceEvent) -> None:
        for target in self._targets:
            target(event)
