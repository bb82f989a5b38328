"""A world: one cloud, N shops' checkouts and M phones, wired over one transport."""

from __future__ import annotations

import trio

from protocol import Address, Machine

from ._activity import Activity
from ._actor import Actor
from ._errors import TransportError
from ._memory import MemoryTransport
from ._trace import Observer
from ._transport import Transport

__all__ = ["World"]


class World:
    """Parties by address; :meth:`run` drives them until no work is left anywhere.

    "No work left" means no message in flight and no timer pending in any actor, so a
    world whose purchases are all answered or pushed stops by itself, in virtual time.
    """

    def __init__(self, transport: Transport | None = None, *, observer: Observer | None = None):
        self.transport: Transport = transport if transport is not None else MemoryTransport()
        self.observer = observer
        self.activity = Activity()
        self.actors: dict[Address, Actor] = {}

    def add(self, address: Address, machine: Machine) -> Actor:
        """Attach the party ``machine`` at ``address``."""
        if address in self.actors:
            raise TransportError(f"two parties at address {address!r}")
        actor = Actor(
            machine,
            self.transport.open_endpoint(address),
            observer=self.observer,
            activity=self.activity,
        )
        self.actors[address] = actor
        return actor

    async def run(self) -> None:
        """Start every actor, wait until the world is quiet, then stop them all."""
        async with trio.open_nursery() as nursery:
            # Startup is work too: the world must not look quiet while actors still start.
            self.activity.add()
            for actor in self.actors.values():
                await nursery.start(actor.run)
            self.activity.done()
            await self.activity.quiet.wait()
            nursery.cancel_scope.cancel()
