"""The queues between connections' read tasks and the parties they feed: a client's
mailbox, and the server's fair, bounded one."""

from __future__ import annotations

import collections
from typing import NoReturn

import trio

from ._transport import Envelope


class _Receiving:
    """What both mailboxes share: one consuming party, woken by an event when mail comes,
    and the end of the queue (closed, or failed with the connection's error)."""

    __slots__ = ("_error", "_waiter", "closed")

    def __init__(self) -> None:
        self.closed = False
        self._waiter: trio.Event | None = None
        self._error: BaseException | None = None

    def _has_mail(self) -> bool:
        raise NotImplementedError

    def receive_nowait(self) -> Envelope:
        raise NotImplementedError

    def _wake_receiver(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.set()

    def _nothing_to_receive(self) -> NoReturn:
        """What an empty mailbox answers: the end, or trio's would-block."""
        if self.closed:
            raise trio.ClosedResourceError("the endpoint is closed")
        if self._error is not None:
            raise self._error
        raise trio.WouldBlock

    async def receive(self) -> Envelope:
        if self._has_mail():  # no wait: still a checkpoint, as every trio receive is
            await trio.lowlevel.checkpoint()
        while not self._has_mail():
            if self.closed or self._error is not None:
                break  # receive_nowait raises
            waiter = self._waiter
            if waiter is None:
                waiter = self._waiter = trio.Event()
            await waiter.wait()  # a checkpoint: no second one once woken (one round less)
        return self.receive_nowait()


class _Mailbox(_Receiving):
    """A queue of envelopes with one consumer (a client's party) and a wake-up: the one
    connection feeding it is the party's own.

    Bounded by back-pressure (issue 14: a server flooding a client grew it without end):
    once ``limit`` envelopes wait, :meth:`put` says so and the connection's read loop waits
    in :meth:`wait_for_space` until the party has taken it down to half, reading nothing
    meanwhile, so TCP slows the server. It holds at most ``limit`` plus one read's frames.
    """

    __slots__ = ("_space", "limit", "queue")

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.queue: collections.deque[Envelope] = collections.deque()
        self.limit = limit
        self._space: trio.Event | None = None  # the read loop, waiting for the queue to shrink

    def _has_mail(self) -> bool:
        return bool(self.queue)

    def put(self, envelope: Envelope) -> bool:
        """Queue ``envelope``; True if the reader must now :meth:`wait_for_space`."""
        queue = self.queue
        queue.append(envelope)
        self._wake_receiver()
        return len(queue) >= self.limit

    async def wait_for_space(self) -> None:
        """Wait while ``limit`` envelopes wait (until half are taken, or the end)."""
        while len(self.queue) >= self.limit and not self.closed:
            event = self._space
            if event is None:
                event = self._space = trio.Event()
            await event.wait()

    def fail(self, error: BaseException) -> None:
        """Every later receive (once the queue is empty) raises ``error``."""
        self._error = error
        self._wake()

    def close(self) -> None:
        self.closed = True
        self.queue.clear()
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.set()
        space, self._space = self._space, None
        if space is not None:
            space.set()

    def receive_nowait(self) -> Envelope:
        queue = self.queue
        if queue:
            envelope = queue.popleft()
            space = self._space
            if space is not None and len(queue) <= self.limit // 2:
                self._space = None
                space.set()
            return envelope
        self._nothing_to_receive()


class _FairMailbox(_Receiving):
    """The mailbox of a party the server hosts (the cloud): one queue per sender, served in
    turn, so that a flooding connection never delays the others by more than one message
    each round.

    Back-pressure: a sender with ``per_sender`` messages waiting, or any sender while the
    whole mailbox holds ``limit``, waits in :meth:`wait_for_space` (its connection stops
    being read: TCP slows the peer) until its queue, or the mailbox, is down to half.
    """

    __slots__ = ("_queues", "_ready", "_room", "_space", "limit", "per_sender", "size")

    def __init__(self, limit: int, per_sender: int) -> None:
        super().__init__()
        self._queues: dict[str, collections.deque[Envelope]] = {}
        self._ready: collections.deque[str] = collections.deque()  # senders with mail, in turn
        self.limit = limit
        self.per_sender = per_sender
        self.size = 0
        self._space: dict[str, trio.Event] = {}  # senders waiting for their queue to shrink
        self._room: trio.Event | None = None  # senders waiting for the whole mailbox to shrink

    def _has_mail(self) -> bool:
        return bool(self._ready)

    def put(self, envelope: Envelope) -> bool:
        """Queue ``envelope``; True if its sender must now :meth:`wait_for_space`."""
        if self.closed:  # the party left: what its connections still read is dropped
            return False
        sender = envelope.sender
        queue = self._queues.get(sender)
        if queue is None:
            queue = self._queues[sender] = collections.deque()
            self._ready.append(sender)
        queue.append(envelope)
        size = self.size = self.size + 1
        self._wake_receiver()
        return len(queue) >= self.per_sender or size >= self.limit

    def queued(self, sender: str) -> int:
        """Messages of ``sender`` waiting now."""
        queue = self._queues.get(sender)
        return 0 if queue is None else len(queue)

    def full_for(self, sender: str) -> bool:
        """Whether ``sender`` must wait before its connection is read again."""
        return self.size >= self.limit or self.queued(sender) >= self.per_sender

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._wake_all()

    def close(self) -> None:
        self.closed = True
        self._queues.clear()
        self._ready.clear()
        self.size = 0
        self._wake_all()

    def _wake_all(self) -> None:
        events = [self._waiter, self._room, *self._space.values()]
        self._waiter = self._room = None
        self._space.clear()
        for event in events:
            if event is not None:
                event.set()

    def receive_nowait(self) -> Envelope:
        ready = self._ready
        if ready:
            sender = ready.popleft()
            queue = self._queues[sender]
            envelope = queue.popleft()
            if queue:
                ready.append(sender)  # its next message waits for the others' turn
            else:
                del self._queues[sender]
            self.size -= 1
            if self._space and len(queue) <= self.per_sender // 2:  # someone waits: is it its?
                space = self._space.pop(sender, None)
                if space is not None:
                    space.set()
            room = self._room
            if room is not None and self.size <= self.limit // 2:
                self._room = None
                room.set()
            return envelope
        self._nothing_to_receive()

    async def wait_for_space(self, sender: str) -> None:
        """Wait while ``sender`` has its share waiting, or the mailbox is full."""
        while not self.closed and self.full_for(sender):
            if self.queued(sender) >= self.per_sender:
                event = self._space.get(sender)
                if event is None:
                    event = self._space[sender] = trio.Event()
            else:
                event = self._room
                if event is None:
                    event = self._room = trio.Event()
            await event.wait()
