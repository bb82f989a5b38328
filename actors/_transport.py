"""The one small interface every transport offers the actors.

An actor sees only its :class:`Endpoint`: ``send`` (never blocks: the transport queues),
``receive`` and ``receive_nowait``. Whether the bytes cross a trio memory channel, a
simulated network or TCP is the transport's business; actor code never knows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol, runtime_checkable

from protocol import Address, Message

__all__ = ["DirectEndpoint", "Endpoint", "Envelope", "Transport"]


class Envelope(NamedTuple):
    """A message in transit, with who sent it and to whom."""

    sender: Address
    recipient: Address
    message: Message


class Endpoint(Protocol):
    """One party's attachment to a transport."""

    @property
    def address(self) -> Address: ...

    def send(self, recipient: Address, message: Message) -> None:
        """Queue ``message`` for ``recipient``; never blocks. Raises TransportError."""
        ...

    async def receive(self) -> Envelope:
        """The next message for this party, waiting for one if needed."""
        ...

    def receive_nowait(self) -> Envelope:
        """The next message if one is already here; raises ``trio.WouldBlock`` if not."""
        ...

    def close(self) -> None:
        """Detach from the transport; later messages to this address are refused."""
        ...


@runtime_checkable
class DirectEndpoint(Protocol):
    """An endpoint that can hand each message to its party as it arrives, in the task that
    received it, instead of queueing it for the party's own task: one wake-up less per
    message. An :class:`~actors.Actor` uses it when its endpoint offers it."""

    def deliver_directly(self, handler: Callable[[Envelope], None]) -> None:
        """From now on call ``handler`` with each message, first those already queued
        (``receive`` then gets none). An exception of ``handler`` propagates out of the
        transport's task that received the message, not out of the party's own."""
        ...


class Transport(Protocol):
    """Something that connects parties by address."""

    def open_endpoint(self, address: Address) -> Endpoint:
        """Attach the party at ``address`` and return its endpoint."""
        ...
