"""The queue between a connection's read task and the local party it feeds."""

from __future__ import annotations

import collections

import trio

from ._transport import Envelope


class _Mailbox:
    """An unbounded queue of envelopes with one consumer (the actor) and a wake-up."""

    __slots__ = ("_error", "_space", "_waiter", "closed", "limit", "queue")

    def __init__(self, limit: int = 0) -> None:
        self.queue: collections.deque[Envelope] = collections.deque()
        self.limit = limit  # > 0: producers may wait_for_space() over it
        self.closed = False
        self._waiter: trio.Event | None = None
        self._space: trio.Event | None = None
        self._error: BaseException | None = None

    def put(self, envelope: Envelope) -> None:
        self.queue.append(envelope)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.set()

    def fail(self, error: BaseException) -> None:
        """Every later receive (once the queue is empty) raises ``error``."""
        self._error = error
        self._wake_all()

    def close(self) -> None:
        self.closed = True
        self.queue.clear()
        self._wake_all()

    def _wake_all(self) -> None:
        for event in (self._waiter, self._space):
            if event is not None:
                event.set()
        self._waiter = self._space = None

    def receive_nowait(self) -> Envelope:
        queue = self.queue
        if queue:
            envelope = queue.popleft()
            space = self._space
            if space is not None and len(queue) <= self.limit // 2:
                self._space = None
                space.set()
            return envelope
        if self.closed:
            raise trio.ClosedResourceError("the endpoint is closed")
        if self._error is not None:
            raise self._error
        raise trio.WouldBlock

    async def receive(self) -> Envelope:
        if self.queue:  # no wait: still a checkpoint, as every trio receive is
            await trio.lowlevel.checkpoint()
        while not self.queue:
            if self.closed or self._error is not None:
                break  # receive_nowait raises
            waiter = self._waiter
            if waiter is None:
                waiter = self._waiter = trio.Event()
            await waiter.wait()  # a checkpoint: no second one once woken (one round less)
        return self.receive_nowait()

    async def wait_for_space(self) -> None:
        """Wait while the queue holds ``limit`` envelopes or more (back-pressure)."""
        while self.limit and len(self.queue) >= self.limit and not self.closed:
            space = self._space
            if space is None:
                space = self._space = trio.Event()
            await space.wait()
