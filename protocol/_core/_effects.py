"""What a machine asks its driver to do: messages to send and timers to arm.

The machines never sleep or read a clock: they take ``now`` as an argument and return an
:class:`Effects` value. A :class:`Timer` is a value, "wake me at ``at`` with ``key``"; the
driver calls the machine's ``timer_fired(key, now)`` at or after that time. Arming a key
that is already armed moves it. ``Effects.cancels`` lists keys no longer needed: a driver
should drop them (fewer wake-ups), but machines also ignore timers that no longer matter,
so a driver that never cancels is still correct.
"""

from __future__ import annotations

from collections.abc import Hashable

import attrs

from ._messages import Message

__all__ = ["NOTHING", "Address", "Effects", "Note", "Send", "Timer"]

Address = str
"""Where a message goes: ``"cloud"``, ``"phone:+86…"`` or ``"pos:MERCHANT:POS"``."""


@attrs.frozen
class Send:
    """Send ``message`` to the party at ``to``."""

    to: Address
    message: Message


@attrs.frozen
class Timer:
    """Call ``timer_fired(key, now)`` once the virtual time reaches ``at``."""

    at: float
    key: Hashable


@attrs.frozen
class Note:
    """A decision the machine made that no message shows (for traces and reports).

    ``kind`` is one of a machine's documented note kinds, e.g. ``"push-withheld"``.
    """

    kind: str
    receipt_id: str | None = None
    phone_id: str | None = None
    detail: str = ""
    merchant_id: str | None = None  # the receipt's merchant (ids are per merchant)


@attrs.frozen
class Effects:
    """The outputs of one step of a machine."""

    sends: tuple[Send, ...] = ()
    timers: tuple[Timer, ...] = ()
    notes: tuple[Note, ...] = ()
    cancels: tuple[Hashable, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sends or self.timers or self.notes or self.cancels)

    def __add__(self, other: Effects) -> Effects:
        """Both steps' effects, ``self``'s first."""
        if not (other.sends or other.timers or other.notes or other.cancels):
            return self
        if not (self.sends or self.timers or self.notes or self.cancels):
            return other
        return Effects(
            self.sends + other.sends,
            self.timers + other.timers,
            self.notes + other.notes,
            self.cancels + other.cancels,
        )


NOTHING = Effects()
