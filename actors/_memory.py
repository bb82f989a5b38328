"""The in-memory transport: one unbounded trio memory channel per party.

Unbounded mailboxes are deliberate: two actors in a request/response cycle over bounded
mailboxes can deadlock, and ``send_nowait`` on an unbounded channel never checkpoints,
which is the cheapest way to move a message between tasks in trio.
"""

from __future__ import annotations

import math

import trio

from protocol import Address, Message

from ._errors import TransportError, UnknownAddress
from ._transport import Envelope

__all__ = ["MemoryEndpoint", "MemoryTransport"]


class MemoryTransport:
    """Parties in one trio run, connected by memory channels."""

    def __init__(self) -> None:
        self._mailboxes: dict[Address, trio.MemorySendChannel[Envelope]] = {}

    def open_endpoint(self, address: Address) -> MemoryEndpoint:
        if address in self._mailboxes:
            raise TransportError(f"address {address!r} is already attached")
        send, receive = trio.open_memory_channel[Envelope](math.inf)
        self._mailboxes[address] = send
        return MemoryEndpoint(self, address, receive)

    def _deliver(self, envelope: Envelope) -> None:
        mailbox = self._mailboxes.get(envelope.recipient)
        if mailbox is None:
            raise UnknownAddress(f"no party at {envelope.recipient!r} on this transport")
        try:
            mailbox.send_nowait(envelope)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise TransportError(f"the party at {envelope.recipient!r} has stopped") from exc

    def _detach(self, address: Address) -> None:
        mailbox = self._mailboxes.pop(address, None)
        if mailbox is not None:
            mailbox.close()


class MemoryEndpoint:
    """A party's mailbox on a :class:`MemoryTransport`."""

    def __init__(
        self,
        transport: MemoryTransport,
        address: Address,
        mailbox: trio.MemoryReceiveChannel[Envelope],
    ) -> None:
        self._transport = transport
        self._address = address
        self._mailbox = mailbox
        self.receive = mailbox.receive
        self.receive_nowait = mailbox.receive_nowait

    @property
    def address(self) -> Address:
        return self._address

    def send(self, recipient: Address, message: Message) -> None:
        self._transport._deliver(Envelope(self._address, recipient, message))

    def close(self) -> None:
        self._transport._detach(self._address)
        self._mailbox.close()
