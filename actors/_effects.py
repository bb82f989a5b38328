"""Carrying out the :class:`~protocol.Effects` of a machine's step, in one place.

Every driver of a machine (an :class:`~actors.Actor`, the field cloud's ``CloudDriver``)
hands each step's effects to an :class:`EffectsInterpreter`, so the rules hold alike:

* cancels first, then timers, notes and sends, each in the machine's order;
* arming a key already armed moves it: only the newest entry of a key may fire;
* a timer due already (``at <= now``) never fires inside the step that armed it: it goes
  to the driver's ``due_now``, which fires it after what the driver has queued;
* notes and sends are observed (through :func:`~actors._sink.taps_of`), a send before the
  transport acts on it (the transport may trace a fault of it); a
  :class:`~actors.TransportError` from a send is traced as ``send-failed``, not raised;
* with an :class:`~actors.Activity` (a simulated world's count of work left), a send and
  a newly armed timer count one more, a failed send and a cancelled timer one less.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from protocol import Address, Effects, Message

from ._activity import Activity
from ._errors import TransportError
from ._sink import taps_of
from ._timers import TimerOwner, TimerService
from ._trace import EventKind, Observer, TraceEvent

__all__ = ["EffectsInterpreter"]


class EffectsInterpreter:
    """Carries out the effects of the machine at ``address`` for one driver.

    What differs between drivers are the parameters: ``send`` (the endpoint's), ``timers``
    and ``owner`` (the service that arms future timers, and the :class:`TimerOwner` it
    calls back when one is due), ``due_now`` (takes ``(key, entry)`` of a timer due
    already), ``observer`` and ``activity``. :attr:`armed` maps each armed key to the
    number of its current entry; the driver fires an entry only if :meth:`take` says so.
    """

    __slots__ = (
        "_activity",
        "_due_now",
        "_noted",
        "_observe",
        "_owner",
        "_send",
        "_sent",
        "_timers",
        "address",
        "armed",
    )

    def __init__(
        self,
        address: Address,
        send: Callable[[Address, Message], None],
        timers: TimerService,
        owner: TimerOwner,
        due_now: Callable[[tuple[Hashable, int]], object],
        *,
        observer: Observer | None = None,
        activity: Activity | None = None,
    ) -> None:
        self.address = address
        self.armed: dict[Hashable, int] = {}
        self._send = send
        self._timers = timers
        self._owner = owner
        self._due_now = due_now
        taps = taps_of(observer)
        self._observe = taps.event  # a failed send
        self._sent = taps.sent
        self._noted = taps.noted
        self._activity = activity

    def holds(self, key: Hashable, seq: int) -> bool:
        """Is entry ``seq`` still the armed one for ``key`` (not moved or cancelled)?"""
        return self.armed.get(key) == seq

    def take(self, key: Hashable, seq: int) -> bool:
        """Disarm ``key`` if ``seq`` is its armed entry: True if the driver may fire it."""
        armed = self.armed
        if armed.get(key) == seq:
            del armed[key]
            return True
        return False

    def apply(self, effects: Effects, now: float) -> None:
        """Carry out one step's effects: cancels, then timers, notes and sends in order."""
        # Runs for every step of every run: each kind is skipped when empty, and the
        # attributes are read into locals once.
        activity = self._activity
        if effects.cancels:
            armed = self.armed
            for key in effects.cancels:
                old = armed.pop(key, None)
                if old is not None:
                    if activity is not None:
                        activity.done()
                    if not old & 1:  # in_heap(old): its entry stays behind, stale
                        self._timers.dropped()
        if effects.timers:  # a key armed again moves: only its newest entry may fire
            armed = self.armed
            service = self._timers
            for timer in effects.timers:
                key = timer.key
                old = armed.get(key)
                if activity is not None and old is None:
                    activity.add()
                at = timer.at
                if at <= now:
                    seq = armed[key] = service.number()
                    self._due_now((key, seq))
                else:
                    armed[key] = service.arm(self._owner, key, at)
                if old is not None and not old & 1:  # in_heap(old), dropped once the
                    service.dropped()  # new one is held (written out: once per timer)
        if effects.notes:
            noted = self._noted
            if noted is not None:
                address = self.address
                for note in effects.notes:
                    noted(now, address, note)
        if effects.sends:
            send = self._send
            sent = self._sent
            address = self.address
            for out in effects.sends:
                if activity is not None:
                    activity.add()
                if sent is not None:  # before the transport acts: it may trace a fault
                    sent(now, address, out.to, out.message)
                try:
                    send(out.to, out.message)
                except TransportError as exc:
                    if activity is not None:
                        activity.done()
                    observe = self._observe
                    if observe is not None:
                        failed = TraceEvent(now, _FAILED, address, out.to, out.message, None, exc)
                        observe(failed)


_FAILED = EventKind.SEND_FAILED
