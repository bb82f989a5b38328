"""A world: one cloud, N shops' checkouts and M phones, wired over one transport."""

from __future__ import annotations

import math
from typing import Literal

import trio

from protocol import Address, Machine

from ._activity import Activity
from ._actor import Actor
from ._errors import TransportError
from ._inline import InlineTransport
from ._memory import MemoryTransport
from ._timers import TimerService
from ._trace import Observer
from ._transport import Transport

__all__ = ["World"]


Scheduling = Literal["tasks", "inline"]


class World:
    """Parties by address; :meth:`run` drives them until no work is left anywhere.

    "No work left" means no message in flight and no timer pending in any actor, so a
    world whose purchases are all answered or pushed stops by itself, in virtual time.

    ``scheduling="tasks"`` (the default) runs one trio task per actor over ``transport``
    (trio memory channels unless given), as a distributed deployment would.
    ``scheduling="inline"`` drives every actor from the world's one task over an
    :class:`InlineTransport`: the same machines and actor code, one trio wake-up per
    virtual instant; the fast choice for large simulations.
    """

    def __init__(
        self,
        transport: Transport | None = None,
        *,
        observer: Observer | None = None,
        scheduling: Scheduling = "tasks",
    ):
        if scheduling == "inline":
            if transport is not None and not isinstance(transport, InlineTransport):
                raise TransportError("inline scheduling runs over an InlineTransport only")
            transport = transport if transport is not None else InlineTransport()
        elif scheduling != "tasks":
            raise TransportError(f"unknown scheduling {scheduling!r}: 'tasks' or 'inline'")
        self.transport: Transport = transport if transport is not None else MemoryTransport()
        self.scheduling: Scheduling = scheduling
        self.observer = observer
        self.activity = Activity()
        self.timers = TimerService()
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
            timers=self.timers,
        )
        self.actors[address] = actor
        return actor

    async def run(self) -> None:
        """Start every actor, wait until the world is quiet, then stop them all."""
        now = trio.current_time()
        for actor in self.actors.values():
            actor.prime(now)  # every start effect is counted before any actor runs
        if isinstance(self.transport, InlineTransport) and self.scheduling == "inline":
            await self._run_inline(self.transport)
            return
        if self.activity.outstanding <= 0:
            return
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.timers.run)
            for actor in self.actors.values():
                nursery.start_soon(actor.run)
            await self.activity.quiet.wait()
            nursery.cancel_scope.cancel()

    async def _run_inline(self, transport: InlineTransport) -> None:
        actors = self.actors
        ready = transport.ready
        timers = self.timers
        try:
            while True:
                now = trio.current_time()
                timers.fire_due(now)
                handled = 0
                while ready:
                    endpoint = ready.popleft()
                    actor = actors[endpoint.address]
                    mailbox = endpoint.mailbox
                    while mailbox:
                        actor.deliver(mailbox.popleft(), now)
                        handled += 1
                    actor.fire_due_now(now)
                    if handled >= _CHECKPOINT_EVERY:
                        handled = 0
                        await trio.lowlevel.checkpoint()  # stay cancellable in a long burst
                deadline = timers._next_deadline()
                if deadline == math.inf:
                    return
                await trio.sleep_until(deadline)
        finally:
            for actor in actors.values():
                actor.endpoint.close()


_CHECKPOINT_EVERY = 4096
