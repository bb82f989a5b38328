"""The interface every party's machine offers its driver."""

from __future__ import annotations

from typing import Protocol

from ._effects import Address, Effects
from ._messages import Message

__all__ = ["Machine"]


class Machine(Protocol):
    """A sans-I/O party: the driver feeds it messages and due timers, it returns effects."""

    def start(self, now: float) -> Effects:
        """Called once when the party starts (or restarts)."""
        ...

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        """A message from ``sender`` arrived at virtual time ``now``."""
        ...

    def timer_fired(self, key: object, now: float) -> Effects:
        """A :class:`Timer` this machine returned is due."""
        ...
