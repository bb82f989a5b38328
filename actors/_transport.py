"""The one small interface every transport offers the actors.

An actor sees only its :class:`Endpoint`: ``send`` (never blocks: the transport queues),
``receive`` and ``receive_nowait``. Whether the bytes cross a trio memory channel, a
simulated network or TCP is the transport's business; actor code never knows.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from protocol import Address, Message

__all__ = ["Endpoint", "Envelope", "Transport"]


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


class Transport(Protocol):
    """Something that connects parties by address."""

    def open_endpoint(self, address: Address) -> Endpoint:
        """Attach the party at ``address`` and return its endpoint."""
        ...
