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

A message's tap is resolved by the message's class once, by the driver (one dict lookup):
a sink may hand out a tap of its own for each class (:meth:`EventSink.message_taps`), so
that what it does with a class's events is not dispatched again inside the sink.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import NamedTuple

from protocol import MESSAGE_TYPES, Address, Message, Note

from ._trace import EventKind, Observer, TraceEvent, fan_out

__all__ = ["EventSink", "MessageTaps", "Taps", "message_taps", "observe_all", "taps_of"]

MessageTap = Callable[[float, Address, Address, Message], None]
"""``tap(t, sender, recipient, message)``: a message sent, or received."""
NoteTap = Callable[[float, Address, Note], None]
"""``tap(t, actor, note)``: a note the actor's machine made."""
TimerTap = Callable[[float, Address, Hashable], None]
"""``tap(t, actor, key)``: a timer of the actor's machine fired."""


MessageTaps = dict[type[Message], MessageTap]
"""The tap of each message class: ``taps[type(message)](t, sender, recipient, message)``.

A plain dict (its lookup specialised by the interpreter, as a subclass's is not) holding
every class of :data:`~protocol.MESSAGE_TYPES`; a driver given a message of any other
class (a test's own type) calls the generic tap instead (:attr:`Taps.sent`, ``received``).
"""


def message_taps(default: MessageTap, own: MessageTaps | None = None) -> MessageTaps:
    """``default`` for every message class, but ``own``'s tap for the classes it holds."""
    taps = dict.fromkeys(MESSAGE_TYPES.values(), default)
    if own is not None:
        taps.update(own)
    return taps


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

    def message_taps(self) -> tuple[MessageTaps, MessageTaps]:
        """The taps of a message sent and of one received, by the message's class: by
        default :meth:`sent` and :meth:`received` for every class. A sink that handles
        each class its own way hands out a tap per class instead, called with the same
        arguments, and saves dispatching on the class again for every event."""
        return message_taps(self.sent), message_taps(self.received)


class Taps(NamedTuple):
    """How a driver reports each kind of event (None: nobody observes)."""

    sent: MessageTap | None
    received: MessageTap | None
    noted: NoteTap | None
    fired: TimerTap | None
    event: Observer | None  # every other kind, as a TraceEvent
    # The taps of sent and received by the message's class (None: nobody observes), what
    # the drivers call: ``sent_by_class[type(message)](t, sender, recipient, message)``,
    # or ``sent`` (``received``) for a class it does not hold.
    sent_by_class: MessageTaps | None = None
    received_by_class: MessageTaps | None = None


_NO_TAPS = Taps(None, None, None, None, None)


def taps_of(observer: Observer | None) -> Taps:
    """The taps of ``observer``: a sink's methods, or calls building its TraceEvents."""
    if observer is None:
        return _NO_TAPS
    if isinstance(observer, EventSink):
        by_class = observer.message_taps()
        return Taps(
            observer.sent, observer.received, observer.noted, observer.fired, observer, *by_class
        )
    sent, received, noted, fired = _event_taps(observer)
    return Taps(sent, received, noted, fired, observer, message_taps(sent), message_taps(received))


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

    __slots__ = ("_by_class", "_fired", "_noted", "_received", "_sent", "_targets")

    def __init__(self, targets: tuple[Observer, ...]) -> None:
        self._targets = targets
        taps = [taps_of(target) for target in targets]
        self._sent = tuple(t.sent for t in taps if t.sent is not None)
        self._received = tuple(t.received for t in taps if t.received is not None)
        self._noted = tuple(t.noted for t in taps if t.noted is not None)
        self._fired = tuple(t.fired for t in taps if t.fired is not None)
        self._by_class: tuple[MessageTaps, MessageTaps] | None = None  # message_taps()

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

    def message_taps(self) -> tuple[MessageTaps, MessageTaps]:
        """Each class's taps of every target (a sink's own per class), called in order;
        made once and shared by every driver."""
        if self._by_class is None:
            taps = [taps_of(target) for target in self._targets]
            sent = [t.sent_by_class for t in taps if t.sent_by_class is not None]
            received = [t.received_by_class for t in taps if t.received_by_class is not None]
            self._by_class = _fanned(sent, self.sent), _fanned(received, self.received)
        return self._by_class


def _fanned(tables: list[MessageTaps], default: MessageTap) -> MessageTaps:
    """One tap per class calling the class's tap of each table in order."""
    by_class: dict[type[Message], MessageTap] = {}
    for cls in MESSAGE_TYPES.values():
        in_order = tuple(table[cls] for table in tables)  # each holds every class
        by_class[cls] = in_order[0] if len(in_order) == 1 else _each(in_order)
    return message_taps(default, by_class)


def _each(taps: tuple[MessageTap, ...]) -> MessageTap:
    def tap(t: float, sender: Address, recipient: Address, message: Message) -> None:
        for one in taps:
            one(t, sender, recipient, message)

    return tap
