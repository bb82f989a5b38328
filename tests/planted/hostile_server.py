"""Planted bugs for the hostile-network tests (tests/actors/test_tcp_hostile.py): each is what
the server did before issue 14, and each test must fail with it.

* :class:`FifoMailbox`: the cloud's mailbox in arrival order, with no share per connection
  (a flooding connection fills it, and every other connection waits behind the flood).
* :data:`NO_HELLO_LIMIT`: the whole frame limit (4 MiB) before the hello is accepted.
* :data:`NO_PEER_CAP`: one address may hold every connection slot.
* :func:`refuse_listing_every_key`: an envelope refusal that sorts and prints every
  unknown key.
"""

from __future__ import annotations

import collections
from typing import Any, NoReturn

import trio

from actors import Envelope, TcpLimits
from actors._tcp_mailbox import _FairMailbox
from protocol.lowlevel import MAX_FRAME_BYTES, MalformedFrame

NO_HELLO_LIMIT = TcpLimits(max_hello_frame_bytes=MAX_FRAME_BYTES)
NO_PEER_CAP = TcpLimits(max_connections=6, max_connections_per_peer=6)


class FifoMailbox(_FairMailbox):
    """One queue in arrival order; producers wait only when the whole mailbox is full."""

    def __init__(self, limit: int, per_sender: int) -> None:
        super().__init__(limit, per_sender=limit)
        self._fifo: collections.deque[Envelope] = collections.deque()

    def put(self, envelope: Envelope) -> bool:
        full = super().put(envelope)
        self._fifo.append(envelope)
        return full

    def receive_nowait(self) -> Envelope:
        if not self._fifo:
            return super().receive_nowait()
        envelope = self._fifo.popleft()
        queue = self._queues[envelope.sender]
        queue.popleft()
        if not queue:
            del self._queues[envelope.sender]
            self._ready.remove(envelope.sender)
        self.size -= 1
        room = self._room
        if room is not None and self.size <= self.limit // 2:
            self._room = None
            room.set()
        return envelope

    async def receive(self) -> Envelope:
        while not self._fifo:
            waiter = self._waiter = trio.Event()
            await waiter.wait()
        await trio.lowlevel.checkpoint()
        return self.receive_nowait()


def refuse_listing_every_key(data: dict[str, Any]) -> NoReturn:
    """The refusal of an envelope with unknown keys as it was: every key, sorted."""
    extra = data.keys() - {"v", "id", "type", "from", "to", "re", "body"}
    raise MalformedFrame(f"unknown envelope key(s) {', '.join(sorted(map(repr, extra)))}")
