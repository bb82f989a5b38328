"""The inline transport: mailboxes as deques, driven without a task per actor.

Sending appends the (sender, message) pair to the recipient's mailbox and, if that mailbox
was empty, the recipient to the transport's ready queue. A :class:`~actors.World` with
``scheduling="inline"`` drains the ready queue from its one task, calling each actor's
handlers directly: the same machines and actor code, but one trio wake-up per virtual
instant instead of one per message hop, and an order fixed by the sends themselves (no
scheduler randomness to seed). Endpoints still offer the async ``receive``, so an actor
task can also run on this transport.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable

import trio

from protocol import Address, Message

from ._errors import TransportError, UnknownAddress
from ._transport import Envelope

__all__ = ["InlineEndpoint", "InlineTransport"]


class InlineTransport:
    """Parties in one trio run, connected by deques and one ready queue."""

    def __init__(self) -> None:
        self._endpoints: dict[Address, InlineEndpoint] = {}
        self.ready: collections.deque[InlineEndpoint] = collections.deque()

    def open_endpoint(self, address: Address) -> InlineEndpoint:
        if address in self._endpoints:
            raise TransportError(f"address {address!r} is already attached")
        endpoint = InlineEndpoint(self, address)
        self._endpoints[address] = endpoint
        return endpoint

    def _deliver(self, envelope: Envelope) -> None:
        self._post(*envelope)

    def _post(self, sender: Address, recipient: Address, message: Message) -> None:
        """Queue ``message`` in ``recipient``'s mailbox (the one place a message is queued)."""
        try:
            endpoint = self._endpoints[recipient]
        except KeyError:
            raise UnknownAddress(f"no party at {recipient!r} on this transport") from None
        mailbox = endpoint.mailbox
        if not mailbox:
            self.ready.append(endpoint)
            waiter = endpoint._waiter
            if waiter is not None:
                waiter.set()
        # A (sender, message) pair: the recipient is the mailbox's owner, and an inline
        # World hands the pair straight to Actor.receive; the Envelope is made only for
        # receive_nowait (a tasks world's actor, a crash draining the mailbox).
        mailbox.append((sender, message))

    def _sender(self, address: Address) -> Callable[[Address, Message], None]:
        """How the endpoint at ``address`` sends: straight to :meth:`_post` (one call per
        message), unless a subclass (a :class:`~actors.SimNetwork`) sees every
        envelope in :meth:`_deliver` first."""
        if type(self)._deliver is InlineTransport._deliver:
            return functools.partial(self._post, address)
        return functools.partial(_via_deliver, self, address)

    def _detach(self, address: Address) -> None:
        self._endpoints.pop(address, None)


class InlineEndpoint:
    """A party's mailbox on an :class:`InlineTransport`."""

    def __init__(self, transport: InlineTransport, address: Address) -> None:
        self._transport = transport
        self._address = address
        self.send = transport._sender(address)
        """``send(recipient, message)``: queue it in the recipient's mailbox."""
        self.mailbox: collections.deque[tuple[Address, Message]] = collections.deque()
        """(sender, message) pairs, oldest first."""
        self._waiter: trio.Event | None = None
        self._closed = False

    @property
    def address(self) -> Address:
        return self._address

    def receive_nowait(self) -> Envelope:
        if self._closed:
            raise trio.ClosedResourceError
        if not self.mailbox:
            raise trio.WouldBlock
        sender, message = self.mailbox.popleft()
        # tuple.__new__ straight: Envelope(...) runs a Python-level __new__
        return _new(Envelope, (sender, self._address, message))

    async def receive(self) -> Envelope:
        while not self.mailbox:
            if self._closed:
                raise trio.ClosedResourceError
            self._waiter = trio.Event()
            await self._waiter.wait()
            self._waiter = None
        await trio.lowlevel.checkpoint()
        return self.receive_nowait()

    def close(self) -> None:
        self._closed = True
        self._transport._detach(self._address)


def _via_deliver(
    transport: InlineTransport, sender: Address, recipient: Address, message: Message
) -> None:
    transport._deliver(Envelope(sender, recipient, message))


_new = tuple.__new__
