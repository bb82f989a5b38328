"""The TCP (and TLS) transport: the same actors, over real sockets.

TCP transport API (stable)
==========================

Server side (the process hosting the cloud)::

    async with actors.serve_tcp("127.0.0.1", 7700, authenticate=auth, ssl_context=ctx) as server:
        cloud = Actor(CloudMachine(...), server.open_endpoint(CLOUD))
        ...  # run the actor(s) in a nursery; server.port is the bound port (port 0: any)

or, inside your own nursery: ``server = TcpServerTransport("127.0.0.1", 7700, ...)`` then
``await nursery.start(server.serve)`` (returns once listening).

* ``authenticate(hello: protocol.lowlevel.Hello) -> Address`` (or an awaitable of one) is called
  once per connection with the client's ``Hello(version, address, credential)``; it returns
  the address the connection speaks for (normally ``hello.address``) or raises
  :class:`protocol.AuthenticationError` (also ``actors.AuthenticationError``: one class,
  the one :class:`protocol.lowlevel.Authenticator` raises; its one-line message goes to the client
  in an ``unauthorized`` error reply: no secrets in it). Any other exception is a bug of
  the callback: logged with its traceback, and the client is told only "the server could
  not check the credential". Default: accept the claimed address.
* Every message arriving on that connection is delivered with ``sender`` = the
  authenticated address, never a field of the frame. Messages the local parties send to
  that address go over that connection; messages a client sends to another client's
  address are relayed (``may_relay(sender, recipient, message) -> bool`` can refuse them).
  Sending to an address with no connection raises :class:`actors.UnknownAddress` (the
  :class:`~actors.Actor` records it as ``send-failed``; the reliability layer re-sends).
* ``ssl_context``: an ``ssl.SSLContext`` for the server side (e.g.
  ``ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)`` with ``load_cert_chain``); None
  for plain TCP. ``limits``: :class:`TcpLimits` (timeouts, queue bounds).

Client side (a POS or phone process)::

    async with actors.connect_tcp("127.0.0.1", 7700, ssl_context=ctx,
                                  credentials={"phone:+8613800000001": token}) as client:
        endpoint = client.open_endpoint("phone:+8613800000001")
        await endpoint.wait_connected()   # optional: raises HelloRefused if refused
        ...  # Actor(PhoneMachine(...), endpoint)

or ``client = TcpClientTransport(host, port, ...)`` and ``await nursery.start(client.run)``.

* One TCP connection per address (per ``open_endpoint``): the connection *is* the
  identity the server authenticated. Each says ``hello`` with its address and credential
  (``open_endpoint(address, credential=...)`` or the ``credentials`` mapping/callable).
* Reconnects with exponential backoff (:class:`Backoff`) when the connection drops;
  sends made while disconnected are queued (bounded: ``max_pending``) and sent after the
  next hello; what was lost in between is re-sent by the protocol's outboxes.
* A refused hello (``unauthorized``, ``unsupported-version``) is permanent: no reconnect;
  ``wait_connected()``, ``receive()`` and ``send()`` raise :class:`actors.HelloRefused`.
* ``ssl_context``: a client ``ssl.SSLContext`` (e.g. ``ssl.create_default_context()`` with
  the server's CA loaded); ``server_hostname`` defaults to ``host``.

Inspecting: ``server.connected`` (authenticated addresses), ``server.connections``,
``server.stats`` / ``client.stats`` (:class:`TcpStats`: connections, refusals by code,
timeouts, stalled and dropped peers, relayed and unroutable messages); per client endpoint
``connected``, ``refused``, ``last_error`` (why the last attempt failed). ``await
server.drain()`` / ``client.drain()`` wait until what was sent so far is written. Connection
events are logged on the ``actors.tcp`` logger.

Errors: OS and trio stream errors are mapped to :class:`actors.TransportError` at this
boundary (one peer's failure closes that connection only). Leaving the ``async with``
waits up to ``grace`` seconds for queued writes, then closes every connection; cancelling
closes them at once; Ctrl-C comes out as a plain ``KeyboardInterrupt``.

How it works: the wire rules live in the sans-I/O ``protocol.lowlevel.ServerConnection`` and
``protocol.lowlevel.ClientConnection``; here, per connection, one task reads (feeding bytes to that
state machine and delivering its messages) and one writes: everything queued between two
wake-ups of the writer goes out in one ``send_all`` (coalesced writes). One watchdog task
per transport times out stuck writes, so that no write pays for a cancel scope.
"""

from __future__ import annotations

import collections
import contextlib
import inspect
import logging
import math
import random
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio

from protocol import (
    WIRE_VERSION,
    Address,
    ErrorCode,
    LocalProtocolError,
    Message,
    message_type,
)
from protocol.lowlevel import (
    MAX_ERRORS_PER_CONNECTION,
    MAX_FRAME_BYTES,
    ClientConnection,
    ConfigValidators,
    ConnectionClosed,
    ConnectionState,
    FrameRefused,
    Hello,
    HelloReceived,
    MessageReceived,
    PeerRefused,
    ServerConnection,
    is_address,
)

from ._errors import AuthenticationError, HelloRefused, TransportError, UnknownAddress
from ._transport import Envelope

__all__ = [
    "Authenticate",
    "Backoff",
    "MayRelay",
    "TcpClientEndpoint",
    "TcpClientTransport",
    "TcpLimits",
    "TcpLocalEndpoint",
    "TcpServerTransport",
    "TcpStats",
    "connect_tcp",
    "serve_tcp",
]

log = logging.getLogger("actors.tcp")

Authenticate = Callable[[Hello], Address | Awaitable[Address]]
"""Maps a client's hello to the address its connection speaks for, or raises
:class:`~actors.AuthenticationError`. May be a coroutine function."""

MayRelay = Callable[[Address, Address, Message], bool]
"""``may_relay(sender, recipient, message)``: may a client's message go to another client?"""

# Errors a stream raises when the peer or the network fails: mapped to TransportError (or
# to closing that one connection) at this boundary, never leaked to the actors.
_STREAM_ERRORS = (OSError, trio.BrokenResourceError, trio.ClosedResourceError, ssl.SSLError)

# Refusals of a hello that reconnecting cannot cure.
_PERMANENT_REFUSALS = frozenset({ErrorCode.UNAUTHORIZED, ErrorCode.UNSUPPORTED_VERSION})


_check = ConfigValidators(TransportError)
_seconds = _check.positive_number(finite=False)  # inf: no time limit, as trio allows
_bound = _check.whole_number(1)


@attrs.frozen
class TcpLimits:
    """Time limits and bounds of the TCP transport (server and client sides).

    * ``hello_timeout``: server: from accepting a connection to its hello being accepted
      (TLS handshake, hello frame, authentication); client: the same, seen from the client.
    * ``frame_timeout``: once the first byte of a frame arrives, the whole frame must
      arrive within this time, or the connection is refused (``timeout``) and closed. An
      idle connection between frames is never timed out (phones wait for pushes).
    * ``write_timeout``: one coalesced write still unfinished after this long means a peer
      that does not read: the connection is closed (a watchdog task per transport checks
      four times per timeout, at most once a second; no cancel scope per write).
    * ``max_send_queue_bytes``: bytes queued for one connection beyond the write in
      progress; over it, the peer is not keeping up: the server closes the connection (a
      client's ``send`` raises TransportError).
    * ``max_pending``: client: messages queued while disconnected (over it, ``send``
      raises TransportError; the outboxes re-send later).
    * ``max_connections``: server: connections open at once; more are closed on accept.
    * ``max_mailbox``: server: messages waiting for a local party before the connections
      feeding it stop reading (TCP back-pressure instead of unbounded memory).
    * ``max_frame_bytes``, ``max_errors``: see ``protocol.lowlevel.MAX_FRAME_BYTES`` and
      ``protocol.lowlevel.MAX_ERRORS_PER_CONNECTION``.
    * ``connect_timeout``: client: one TCP connect.
    """

    hello_timeout: float = attrs.field(default=10.0, validator=_seconds)
    frame_timeout: float = attrs.field(default=10.0, validator=_seconds)
    write_timeout: float = attrs.field(default=10.0, validator=_seconds)
    connect_timeout: float = attrs.field(default=10.0, validator=_seconds)
    max_send_queue_bytes: int = attrs.field(default=4 * 1024 * 1024, validator=_bound)
    max_pending: int = attrs.field(default=10_000, validator=_bound)
    max_connections: int = attrs.field(default=4096, validator=_bound)
    max_mailbox: int = attrs.field(default=10_000, validator=_bound)
    max_frame_bytes: int = attrs.field(default=MAX_FRAME_BYTES, validator=_bound)
    max_errors: int = attrs.field(default=MAX_ERRORS_PER_CONNECTION, validator=_bound)
    receive_size: int = attrs.field(default=65536, validator=_bound)


@attrs.frozen
class Backoff:
    """Client reconnection delays: ``first``, then ``factor`` times longer each failed
    attempt, at most ``max``, each drawn within +-``jitter`` (a fraction) so that many
    clients cut off together do not come back together."""

    first: float = attrs.field(default=0.05, validator=_seconds)
    factor: float = attrs.field(default=2.0, validator=_check.positive_number(finite=False))
    max: float = attrs.field(default=5.0, validator=_seconds)
    jitter: float = attrs.field(default=0.2, validator=_check.fraction())

    def delay(self, attempt: int) -> float:
        """The wait before reconnect attempt ``attempt`` (1, 2, ...)."""
        base = min(self.first * self.factor ** min(attempt - 1, 64), self.max)
        return base * (1.0 + self.jitter * (2.0 * _jitter.random() - 1.0))


_jitter = random.Random()


@attrs.define
class TcpStats:
    """Counters of one transport, for reports, logs and tests."""

    accepted: int = 0  # connections accepted (server)
    turned_away: int = 0  # closed at once: over max_connections (server)
    connected: int = 0  # hellos accepted (server) or connections established (client)
    hellos_refused: int = 0  # unauthorized, wrong version, no hello (server); refused (client)
    timeouts: int = 0  # no hello or no complete frame in time
    stalled: int = 0  # closed: the peer did not read (send queue or write timeout)
    dropped: int = 0  # connections lost to network errors
    replaced: int = 0  # an address connected again: the older connection was closed
    messages_in: int = 0  # protocol messages received
    relayed: int = 0  # client -> client messages passed on (server)
    unroutable: int = 0  # client messages for an address with no party (dropped)
    refused: collections.Counter[str] = attrs.field(factory=collections.Counter)
    """Frames refused, by error code (server: refused by this side; client: by the server)."""


# --------------------------------------------------------------------------- mailboxes


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


# --------------------------------------------------------------------------- one link


class _Link:
    """One stream and its sans-I/O connection: a coalescing writer task and a read loop.

    Everything queued on ``conn`` between two wake-ups of the writer goes out in one
    ``send_all``: that is what makes TCP fast here (see docs/wire-format.md).
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        conn: ServerConnection | ClientConnection,
        limits: TcpLimits,
        stats: TcpStats,
        label: str,
    ) -> None:
        self.stream = stream
        self.conn = conn
        self.limits = limits
        self.stats = stats
        self.label = label
        self.scope = trio.CancelScope()
        self.closing = False  # the writer flushes what is queued, then returns
        self.failure: str | None = None
        self._wake = trio.Event()
        self.write_started: float | None = None  # when the write in progress began
        self._writer_running = False
        self._idle: trio.Event | None = None
        self._frame_mark = -1  # frames_received when the partial frame was first seen
        self._frame_deadline = math.inf

    def kick(self) -> None:
        """Something was queued on the connection: wake the writer."""
        wake = self._wake
        if not wake.is_set():
            wake.set()

    def abort(self, reason: str) -> None:
        """Close the connection now (from any task)."""
        if self.failure is None:
            self.failure = reason
            log.info("%s: closing: %s", self.label, reason)
        self.scope.cancel()

    async def run(self, read_loop: Callable[[_Link], Awaitable[None]]) -> None:
        """The open connection's life: the writer task, and ``read_loop`` in this one,
        until the read loop ends (then the writer flushes and stops) or the link fails.
        Stream errors end the link here: they never leave it (wrapped in a group)."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.writer)
            try:
                await read_loop(self)
            except _STREAM_ERRORS as exc:
                self.stats.dropped += 1
                self.abort(f"read failed: {_describe(exc)}")
            finally:
                self.closing = True
                self.kick()

    async def writer(self) -> None:
        """Write everything queued, coalesced, until closing and drained (or failure)."""
        conn = self.conn
        stream = self.stream
        self._writer_running = True
        try:
            while True:
                data = conn.data_to_send()
                if data:
                    # No cancel scope per write (one costs as much as the write itself):
                    # a _Watchdog aborts a write stuck for longer than the write timeout.
                    self.write_started = trio.current_time()
                    await stream.send_all(data)
                    self.write_started = None
                    continue
                idle = self._idle
                if idle is not None:
                    self._idle = None
                    idle.set()
                if self.closing:
                    return
                await self._wake.wait()
                self._wake = trio.Event()
        except _STREAM_ERRORS as exc:
            self.stats.dropped += 1
            self.abort(f"write failed: {_describe(exc)}")
        finally:
            self._writer_running = False
            idle, self._idle = self._idle, None
            if idle is not None:
                idle.set()

    async def drained(self) -> None:
        """Wait until everything queued so far is written (while the writer runs)."""
        while self.write_started is not None or self.conn.outgoing_bytes:
            if self.scope.cancel_called or not self._writer_running:
                return
            idle = self._idle
            if idle is None:
                idle = self._idle = trio.Event()
            self.kick()
            await idle.wait()

    async def read_some(self) -> bytes | bytearray | None:
        """The next bytes from the peer (``b""`` at its end), or None if the frame being
        received did not complete within ``frame_timeout`` of its first byte."""
        if not self.conn.in_frame:
            self._frame_mark = -1
            return await self.stream.receive_some(self.limits.receive_size)
        received = self.conn.frames_received
        if self._frame_mark != received:  # a new partial frame: its clock starts now
            self._frame_mark = received
            self._frame_deadline = trio.current_time() + self.limits.frame_timeout
        with trio.move_on_at(self._frame_deadline):
            return await self.stream.receive_some(self.limits.receive_size)
        return None

    async def close_politely(self, *, flush: bool) -> None:
        """Before closing after a refusal: write what is queued (if ``flush``; else the
        writer did), send end-of-stream, then read and drop what the peer still sends,
        briefly (a "lingering close"), so that closing with unread input does not reset
        the connection and destroy the refusal before the peer reads it."""
        stream = self.stream
        transport = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
        with trio.move_on_after(_LINGER_SECONDS), contextlib.suppress(*_STREAM_ERRORS):
            data = self.conn.data_to_send() if flush else b""
            if data:
                await stream.send_all(data)
            if isinstance(transport, trio.SocketStream):
                await transport.send_eof()
            dropped = 0
            while dropped < _LINGER_BYTES:
                chunk = await transport.receive_some(self.limits.receive_size)
                if not chunk:
                    break
                dropped += len(chunk)


_LINGER_SECONDS = 0.5
_LINGER_BYTES = 1024 * 1024


class _Watchdog:
    """One task per transport that closes the links whose write has made no progress for
    ``write_timeout`` (a peer that does not read), checking a few times per timeout."""

    def __init__(self, limits: TcpLimits, stats: TcpStats) -> None:
        self.limits = limits
        self.stats = stats
        self.links: set[_Link] = set()

    async def run(self) -> None:
        timeout = self.limits.write_timeout
        period = min(max(timeout / 4, 0.01), 1.0)
        while True:
            await trio.sleep(period)
            now = trio.current_time()
            for link in list(self.links):
                started = link.write_started
                if started is not None and now - started > timeout:
                    self.stats.stalled += 1
                    link.abort(f"the peer read nothing for {timeout:g} s (write timed out)")


def _describe(exc: BaseException) -> str:
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    text = str(cause) or type(cause).__name__
    return " ".join(text.split())


def _keepalive(stream: trio.SocketStream) -> None:
    with contextlib.suppress(OSError):  # not every platform allows it
        stream.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


async def _close(stream: trio.abc.AsyncResource) -> None:
    await trio.aclose_forcefully(stream)


# --------------------------------------------------------------------------- server


class TcpLocalEndpoint:
    """A party hosted by the server process itself (the cloud) on a
    :class:`TcpServerTransport`."""

    def __init__(self, server: TcpServerTransport, address: Address) -> None:
        self._server = server
        self._address = address
        self.mailbox = _Mailbox(server.limits.max_mailbox)
        self.receive_nowait = self.mailbox.receive_nowait

    @property
    def address(self) -> Address:
        return self._address

    def send(self, recipient: Address, message: Message) -> None:
        """Queue ``message`` for a local party or a connected client; never blocks.
        Raises UnknownAddress if no party is at ``recipient``, TransportError if its
        connection is not keeping up (the connection is then closed)."""
        self._server._route(self._address, recipient, message)

    async def receive(self) -> Envelope:
        return await self.mailbox.receive()

    def close(self) -> None:
        self._server._detach(self._address, self)
        self.mailbox.close()


class TcpServerTransport:
    """The server side: listens on ``host:port``, authenticates each connection's hello,
    and carries messages between its local parties and its connected clients.

    Start it inside a nursery (``await nursery.start(server.serve)`` returns once it
    listens; ``server.port`` is then the bound port) or with :func:`serve_tcp`. Local
    parties attach with :meth:`open_endpoint` (before or after starting).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        authenticate: Authenticate | None = None,
        ssl_context: ssl.SSLContext | None = None,
        limits: TcpLimits | None = None,
        may_relay: MayRelay | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.authenticate: Authenticate = (
            authenticate if authenticate is not None else _accept_claimed_address
        )
        self.ssl_context = ssl_context
        self.limits = limits if limits is not None else TcpLimits()
        self.may_relay = may_relay
        self.stats = TcpStats()
        self._watchdog = _Watchdog(self.limits, self.stats)
        self._local: dict[Address, TcpLocalEndpoint] = {}
        self._connections: dict[Address, _ServerSide] = {}
        self._open: set[_ServerSide] = set()
        self._serving = False

    # -- the Transport interface

    def open_endpoint(self, address: Address) -> TcpLocalEndpoint:
        """Attach a party hosted by this process (e.g. the cloud at ``"cloud"``)."""
        if not is_address(address):
            raise TransportError(f"malformed address {address!r}")
        if address in self._local:
            raise TransportError(f"address {address!r} is already attached")
        endpoint = TcpLocalEndpoint(self, address)
        self._local[address] = endpoint
        return endpoint

    # -- inspection

    @property
    def connected(self) -> frozenset[Address]:
        """The addresses with an open, authenticated connection now."""
        return frozenset(self._connections)

    @property
    def connections(self) -> int:
        """Connections open now (authenticated or not yet)."""
        return len(self._open)

    # -- running

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen and serve until cancelled. Raises TransportError if it cannot listen."""
        if self._serving:
            raise TransportError("this server transport is already serving")
        self._serving = True
        try:
            listeners = await trio.open_tcp_listeners(self.port, host=self.host)
        except OSError as exc:
            self._serving = False
            raise TransportError(
                f"cannot listen on {self.host}:{self.port}: {_describe(exc)} "
                "(is another server using that port?)"
            ) from exc
        self.port = listeners[0].socket.getsockname()[1]
        log.info("listening on %s:%d%s", self.host, self.port, " (TLS)" if self.ssl_context else "")
        try:
            with _interrupts_unwrapped():
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._watchdog.run)
                    await nursery.start(trio.serve_listeners, self._serve_connection, listeners)
                    task_status.started()
        finally:
            self._serving = False
            for listener in listeners:
                await _close(listener)

    async def drain(self) -> None:
        """Wait until everything queued for every connection is written."""
        for side in list(self._open):
            if side.link is not None:
                await side.link.drained()

    async def _serve_connection(self, raw: trio.SocketStream) -> None:
        self.stats.accepted += 1
        if len(self._open) >= self.limits.max_connections:
            self.stats.turned_away += 1
            log.warning("turning a connection away: %d open", len(self._open))
            await _close(raw)
            return
        _keepalive(raw)
        side = _ServerSide(self, raw)
        self._open.add(side)
        try:
            await side.run()
        except Exception:  # a bug must cost one connection, never the server
            log.exception("%s: unexpected error", side.label)
        finally:
            self._open.discard(side)
            if side.address is not None and self._connections.get(side.address) is side:
                del self._connections[side.address]
            await _close(side.stream)

    # -- routing

    def _route(self, sender: Address, recipient: Address, message: Message) -> None:
        local = self._local.get(recipient)
        if local is not None:
            local.mailbox.put(Envelope(sender, recipient, message))
            return
        side = self._connections.get(recipient)
        if side is None:
            raise UnknownAddress(f"no connection for {recipient!r} on this server")
        side.queue(message, sender)

    def _detach(self, address: Address, endpoint: TcpLocalEndpoint) -> None:
        if self._local.get(address) is endpoint:
            del self._local[address]

    def _register(self, side: _ServerSide, address: Address) -> None:
        older = self._connections.get(address)
        self._connections[address] = side
        self.stats.connected += 1
        if older is not None and older is not side:
            self.stats.replaced += 1
            if older.link is not None:
                older.link.abort(f"{address} connected again: this older connection is replaced")


def _accept_claimed_address(hello: Hello) -> Address:
    return hello.address


class _ServerSide:
    """One accepted connection on the server."""

    def __init__(self, server: TcpServerTransport, raw: trio.SocketStream) -> None:
        self.server = server
        self.address: Address | None = None
        self.stream: trio.abc.Stream = raw
        if server.ssl_context is not None:
            self.stream = trio.SSLStream(raw, server.ssl_context, server_side=True)
        try:
            host, port = raw.socket.getpeername()[:2]
            self.label = f"connection from {host}:{port}"
        except OSError:
            self.label = "connection"
        limits = server.limits
        self.conn = ServerConnection(
            max_frame_bytes=limits.max_frame_bytes, max_errors=limits.max_errors
        )
        self.link: _Link | None = None

    async def run(self) -> None:
        server = self.server
        link = self.link = _Link(self.stream, self.conn, server.limits, server.stats, self.label)
        server._watchdog.links.add(link)
        try:
            await self._run(link)
        finally:
            server._watchdog.links.discard(link)

    async def _run(self, link: _Link) -> None:
        server = self.server
        with link.scope:
            try:
                accepted = await self._hello()
                if not accepted:
                    await link.close_politely(flush=True)
                    return
                await link.run(self._read_loop)
                if self.conn.state is ConnectionState.CLOSED and link.failure is None:
                    await link.close_politely(flush=False)  # the writer sent the refusal
            except _STREAM_ERRORS as exc:
                server.stats.dropped += 1
                log.info("%s: dropped: %s", self.label, _describe(exc))

    async def _hello(self) -> bool:
        """The hello phase; True once the connection is authenticated and open."""
        server = self.server
        conn = self.conn
        stats = server.stats
        timeout = server.limits.hello_timeout
        hello: Hello | None = None
        with trio.move_on_after(timeout):
            while hello is None:
                for event in conn.events():
                    if isinstance(event, HelloReceived):
                        hello = event.hello
                    elif isinstance(event, FrameRefused):
                        stats.refused[event.reply.code] += 1
                if conn.state is ConnectionState.CLOSED:
                    stats.hellos_refused += 1
                    log.info("%s: no valid hello: %s", self.label, conn.closed_reason)
                    return False
                if hello is None:
                    conn.receive_data(await self.stream.receive_some(server.limits.receive_size))
            address = await self._authenticate(hello)
            if address is None:
                stats.hellos_refused += 1
                return False
            conn.accept(address)
            self.address = address
            server._register(self, address)
            log.info("%s: %s connected", self.label, address)
            return True
        stats.timeouts += 1
        stats.refused[ErrorCode.TIMEOUT] += 1
        conn.refuse(ErrorCode.TIMEOUT, f"no hello within {timeout:g} s of connecting")
        log.info("%s: no hello within %g s", self.label, timeout)
        return False

    async def _authenticate(self, hello: Hello) -> Address | None:
        server = self.server
        conn = self.conn
        try:
            result = server.authenticate(hello)
            if inspect.isawaitable(result):
                result = await result
        except AuthenticationError as exc:
            detail = str(exc) or "the credential does not prove the address"
            conn.refuse(ErrorCode.UNAUTHORIZED, detail)
            server.stats.refused[ErrorCode.UNAUTHORIZED] += 1
            log.info("%s: hello of %s refused: %s", self.label, hello.address, detail)
            return None
        except Exception:
            log.exception("%s: the authenticate callback failed", self.label)
            conn.refuse(ErrorCode.UNAUTHORIZED, "the server could not check the credential")
            server.stats.refused[ErrorCode.UNAUTHORIZED] += 1
            return None
        if not isinstance(result, str) or not is_address(result):
            log.error("%s: authenticate returned %r, not an address", self.label, result)
            conn.refuse(ErrorCode.UNAUTHORIZED, "the server could not check the credential")
            server.stats.refused[ErrorCode.UNAUTHORIZED] += 1
            return None
        if result in server._local:
            conn.refuse(ErrorCode.UNAUTHORIZED, f"{result} is a party of the server itself")
            server.stats.refused[ErrorCode.UNAUTHORIZED] += 1
            return None
        return result

    async def _read_loop(self, link: _Link) -> None:
        server = self.server
        conn = self.conn
        stats = server.stats
        address = self.address
        assert address is not None
        local = server._local
        wrote = False
        while True:
            for event in conn.events():
                if isinstance(event, MessageReceived):
                    stats.messages_in += 1
                    recipient = event.recipient
                    assert recipient is not None
                    endpoint = local.get(recipient)
                    if endpoint is not None:
                        mailbox = endpoint.mailbox
                        mailbox.put(Envelope(address, recipient, event.message))
                        if len(mailbox.queue) >= mailbox.limit:
                            await mailbox.wait_for_space()
                    elif self._relay(event, recipient):
                        wrote = True
                elif isinstance(event, FrameRefused):
                    stats.refused[event.reply.code] += 1
                    wrote = True
                    log.debug("%s: refused a frame: %s", address, event.reply.detail)
                elif isinstance(event, ConnectionClosed):
                    log.info("%s (%s): closed: %s", self.label, address, event.reason)
            if wrote:
                wrote = False
                link.kick()
            if conn.state is ConnectionState.CLOSED:
                return
            data = await link.read_some()
            if data is None:
                stats.timeouts += 1
                stats.refused[ErrorCode.TIMEOUT] += 1
                timeout = server.limits.frame_timeout
                conn.refuse(ErrorCode.TIMEOUT, f"no complete frame within {timeout:g} s")
                log.info("%s (%s): no complete frame within %g s", self.label, address, timeout)
                return
            conn.receive_data(data)

    def _relay(self, event: MessageReceived, recipient: Address) -> bool:
        """Pass a client's message on to another client; True if a refusal was queued."""
        server = self.server
        stats = server.stats
        address = self.address
        assert address is not None
        message = event.message
        target = server._connections.get(recipient)
        if target is None:
            stats.unroutable += 1
            log.debug("%s: nobody at %s: %s dropped", address, recipient, message)
            return False
        may_relay = server.may_relay
        if may_relay is not None and not may_relay(address, recipient, message):
            self.conn.refuse_message(
                event.frame_id,
                ErrorCode.UNAUTHORIZED,
                f"{address} may not send {message_type(message)} to {recipient}",
            )
            stats.refused[ErrorCode.UNAUTHORIZED] += 1
            return True
        try:
            target.queue(message, address)
            stats.relayed += 1
        except TransportError:
            stats.unroutable += 1
        return False

    def queue(self, message: Message, sender: Address) -> None:
        """Queue ``message`` from ``sender`` on this connection (never blocks)."""
        conn = self.conn
        link = self.link
        if conn.state is not ConnectionState.OPEN or link is None or link.failure is not None:
            raise UnknownAddress(f"the connection of {self.address!r} is closing")
        limit = self.server.limits.max_send_queue_bytes
        if conn.outgoing_bytes > limit:
            self.server.stats.stalled += 1
            link.abort(f"over {limit} bytes queued: the client does not read")
            raise TransportError(
                f"{self.address} is not reading (over {limit} bytes queued): disconnected it"
            )
        conn.send(message, sender)
        link.kick()


# --------------------------------------------------------------------------- client


class TcpClientEndpoint:
    """One party of a client process, with its own connection to the server."""

    def __init__(self, client: TcpClientTransport, address: Address, credential: str) -> None:
        self._client = client
        self._address = address
        self._credential = credential
        self.mailbox = _Mailbox()
        self.receive_nowait = self.mailbox.receive_nowait
        self._direct: Callable[[Envelope], None] | None = None
        self._pending: collections.deque[tuple[Address, Message]] = collections.deque()
        self._link: _Link | None = None
        self._closed = False
        self._changed = trio.Event()
        self.scope = trio.CancelScope()
        self.refused: HelloRefused | None = None
        self.last_error: str | None = None
        """Why the last connection attempt failed or the last connection ended."""

    @property
    def address(self) -> Address:
        return self._address

    def set_credential(self, credential: str) -> None:
        """Present ``credential`` in the hello of every later (re)connection: a phone that
        enrolled on this connection reconnects with the device token it was issued."""
        self._credential = credential

    @property
    def connected(self) -> bool:
        """Whether the connection is open (hello accepted) now."""
        link = self._link
        return link is not None and link.conn.state is ConnectionState.OPEN

    def send(self, recipient: Address, message: Message) -> None:
        """Queue ``message`` for ``recipient`` (via the server); never blocks. While
        disconnected, up to ``max_pending`` messages wait for the next connection.
        Raises HelloRefused after a refusal, TransportError when closed or over bounds."""
        if self.refused is not None:
            raise self.refused
        if self._closed:
            raise TransportError(f"the endpoint of {self._address} is closed")
        limits = self._client.limits
        link = self._link
        if link is not None and link.conn.state is ConnectionState.OPEN:
            conn = link.conn
            assert isinstance(conn, ClientConnection)
            if conn.outgoing_bytes > limits.max_send_queue_bytes:
                raise TransportError(
                    f"{self._address}: the server is not reading "
                    f"(over {limits.max_send_queue_bytes} bytes queued)"
                )
            conn.send(message, recipient)
            link.kick()
            return
        if len(self._pending) >= limits.max_pending:
            raise TransportError(
                f"{self._address}: not connected, {limits.max_pending} messages already wait"
            )
        self._pending.append((recipient, message))

    async def receive(self) -> Envelope:
        return await self.mailbox.receive()

    def close(self) -> None:
        """Close the connection and stop reconnecting."""
        if not self._closed:
            self._closed = True
            self._direct = None
            self._pending.clear()
            self.scope.cancel()
            self.mailbox.close()
            self._client._endpoints.pop(self._address, None)
            self._signal()

    async def wait_connected(self) -> None:
        """Wait until the connection is open; raises HelloRefused if the server refused
        the hello, TransportError if the endpoint is closed."""
        while True:
            if self.refused is not None:
                raise self.refused
            if self._closed:
                raise TransportError(f"the endpoint of {self._address} is closed")
            if self.connected:
                return
            await self._changed.wait()

    async def drained(self) -> None:
        """Wait until what was sent so far is written (if connected)."""
        link = self._link
        if link is not None:
            await link.drained()

    def _signal(self) -> None:
        changed, self._changed = self._changed, trio.Event()
        changed.set()

    async def run(self) -> None:
        """Connect, serve, reconnect with backoff; until closed or refused."""
        client = self._client
        attempt = 0
        with self.scope:
            try:
                while not self._closed:
                    was_connected = await self._connect_once()
                    attempt = 1 if was_connected else attempt + 1
                    await trio.sleep(client.backoff.delay(attempt))
            except HelloRefused as refused:
                self.refused = refused
                client.stats.hellos_refused += 1
                log.warning("%s", refused)
                self.mailbox.fail(refused)
            finally:
                self._link = None
                self._signal()

    async def _connect_once(self) -> bool:
        """One connection's life; True if it was established (hello accepted)."""
        client = self._client
        limits = client.limits
        label = f"{self._address} -> {client.host}:{client.port}"
        try:
            with trio.fail_after(limits.connect_timeout):
                raw = await trio.open_tcp_stream(client.host, client.port)
        except (*_STREAM_ERRORS, trio.TooSlowError) as exc:
            self.last_error = f"cannot connect to {client.host}:{client.port}: {_describe(exc)}"
            log.debug("%s: %s", label, self.last_error)
            return False
        stream: trio.abc.Stream = raw
        if client.ssl_context is not None:
            stream = trio.SSLStream(raw, client.ssl_context, server_hostname=client.server_hostname)
        conn = ClientConnection(
            Hello(WIRE_VERSION, self._address, self._credential),
            max_frame_bytes=limits.max_frame_bytes,
        )
        link = _Link(stream, conn, limits, client.stats, label)
        client._watchdog.links.add(link)
        try:
            with link.scope:
                if not await self._hello(link):
                    return False
                client.stats.connected += 1
                self._link = link
                self._signal()
                log.info("%s: connected", label)
                for recipient, message in self._pending:
                    conn.send(message, recipient)
                self._pending.clear()
                await link.run(self._read_loop)
            if link.failure is not None:
                self.last_error = link.failure
            return True
        except trio.TooSlowError:  # only the hello phase has a deadline
            client.stats.timeouts += 1
            self.last_error = f"no hello-ack within {limits.hello_timeout:g} s"
            log.info("%s: %s", label, self.last_error)
            return False
        except _STREAM_ERRORS as exc:
            client.stats.dropped += 1
            self.last_error = f"connection lost: {_describe(exc)}"
            log.info("%s: %s", label, self.last_error)
            return self._link is link
        finally:
            client._watchdog.links.discard(link)
            if self._link is link:
                self._link = None
                self._signal()
            await _close(stream)

    async def _hello(self, link: _Link) -> bool:
        conn = link.conn
        assert isinstance(conn, ClientConnection)
        stats = self._client.stats
        with trio.fail_after(self._client.limits.hello_timeout):
            await link.stream.send_all(conn.data_to_send())  # the TLS handshake happens here
            while conn.state is ConnectionState.AWAITING_HELLO:
                data = await link.stream.receive_some(self._client.limits.receive_size)
                conn.receive_data(data)
                for event in conn.events():
                    if isinstance(event, PeerRefused):
                        reply = event.reply
                        stats.refused[reply.code] += 1
                        # Before the hello-ack, a refusal is the hello's (and closes).
                        if reply.code in _PERMANENT_REFUSALS:
                            raise HelloRefused(self._address, str(reply.code), reply.detail)
                        self.last_error = f"hello refused: {reply.code}: {reply.detail}"
                    elif isinstance(event, ConnectionClosed):
                        self.last_error = event.reason
                    elif isinstance(event, MessageReceived):
                        self._deliver(event)
        return conn.state is ConnectionState.OPEN

    def deliver_directly(self, handler: Callable[[Envelope], None]) -> None:
        """Hand each message to ``handler`` in the connection's read task as it arrives
        (see :class:`~actors.DirectEndpoint`): one party per connection, so nothing else
        ever queues for it."""
        queue = self.mailbox.queue
        while queue:
            handler(queue.popleft())
        self._direct = handler

    def _deliver(self, event: MessageReceived) -> None:
        sender = event.sender
        assert sender is not None
        self._client.stats.messages_in += 1
        envelope = Envelope(sender, self._address, event.message)
        direct = self._direct
        if direct is not None:
            direct(envelope)
        else:
            self.mailbox.put(envelope)

    async def _read_loop(self, link: _Link) -> None:
        conn = link.conn
        assert isinstance(conn, ClientConnection)
        stats = self._client.stats
        while True:
            for event in conn.events():
                if isinstance(event, MessageReceived):
                    self._deliver(event)
                elif isinstance(event, PeerRefused):
                    stats.refused[event.reply.code] += 1
                    log.warning(
                        "%s: the server refused frame %s: %s: %s",
                        self._address,
                        event.refers_to,
                        event.reply.code,
                        event.reply.detail,
                    )
                elif isinstance(event, ConnectionClosed):
                    self.last_error = event.reason
                    log.info("%s: connection closed: %s", self._address, event.reason)
            if conn.state is ConnectionState.CLOSED:
                return
            data = await link.read_some()
            if data is None:
                self.last_error = "the server sent part of a frame and stalled"
                return
            conn.receive_data(data)


class TcpClientTransport:
    """The client side: each :meth:`open_endpoint` is one party of this process with its
    own connection to the server at ``host:port``.

    Start it inside a nursery (``await nursery.start(client.run)``) or with
    :func:`connect_tcp`, then open endpoints. ``credentials``: a mapping or a function
    from an address to its credential (default: empty credentials); ``open_endpoint(...,
    credential=...)`` overrides it. ``ssl_context``: a client context (TLS), with
    ``server_hostname`` (default ``host``) checked against the server's certificate.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        credentials: Mapping[Address, str] | Callable[[Address], str] | None = None,
        limits: TcpLimits | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.server_hostname = server_hostname if server_hostname is not None else host
        self._credentials = credentials
        self.limits = limits if limits is not None else TcpLimits()
        self.backoff = backoff if backoff is not None else Backoff()
        self.stats = TcpStats()
        self._watchdog = _Watchdog(self.limits, self.stats)
        self._endpoints: dict[Address, TcpClientEndpoint] = {}
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Host the endpoints' connections until cancelled."""
        with _interrupts_unwrapped():
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._watchdog.run)
                self._nursery = nursery
                task_status.started()
                try:
                    await trio.sleep_forever()
                finally:
                    self._nursery = None
                    for endpoint in list(self._endpoints.values()):
                        endpoint.close()

    def open_endpoint(
        self, address: Address, *, credential: str | None = None
    ) -> TcpClientEndpoint:
        """Attach the party at ``address``: it connects (and reconnects) in the background."""
        if self._nursery is None:
            raise TransportError(
                "the TCP client is not running: use 'async with connect_tcp(...)' or "
                "'await nursery.start(client.run)' first"
            )
        if not is_address(address):
            raise TransportError(f"malformed address {address!r}")
        if address in self._endpoints:
            raise TransportError(f"address {address!r} is already attached")
        if credential is None:
            credential = self._credential_of(address)
        try:
            Hello(WIRE_VERSION, address, credential)
        except LocalProtocolError as exc:
            raise TransportError(f"cannot say hello as {address}: {exc}") from exc
        endpoint = TcpClientEndpoint(self, address, credential)
        self._endpoints[address] = endpoint
        self._nursery.start_soon(endpoint.run)
        return endpoint

    def _credential_of(self, address: Address) -> str:
        credentials = self._credentials
        if credentials is None:
            return ""
        if callable(credentials):
            return credentials(address)
        return credentials.get(address, "")

    async def drain(self) -> None:
        """Wait until what every endpoint sent so far is written."""
        for endpoint in list(self._endpoints.values()):
            await endpoint.drained()


# --------------------------------------------------------------------------- context managers


@asynccontextmanager
async def _running(
    start: Callable[..., Awaitable[Any]], drain: Callable[[], Awaitable[None]], grace: float
) -> AsyncIterator[None]:
    """Run ``start`` in a nursery of its own around the ``async with`` body; on a normal
    exit wait up to ``grace`` seconds for queued writes, then cancel. An exception of the
    body, or of starting, comes out as itself, not wrapped in an exception group."""
    body_error: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            try:
                await nursery.start(start)
            except BaseException as exc:  # e.g. TransportError: cannot listen
                body_error = exc
                raise
            try:
                yield
            except BaseException as exc:
                body_error = exc
                raise
            else:
                with trio.move_on_after(grace):
                    await drain()
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        if _only_interrupts(group):
            raise KeyboardInterrupt from None
        if body_error is None:
            raise
        _, rest = group.split(lambda exc: exc is body_error)
        if rest is None:
            raise body_error from None
        raise


def _only_interrupts(group: BaseExceptionGroup[BaseException]) -> bool:
    _, rest = group.split(KeyboardInterrupt)
    return rest is None


@contextlib.contextmanager
def _interrupts_unwrapped() -> Iterator[None]:
    """Ctrl-C (a KeyboardInterrupt landing in one of the transport's tasks, wrapped in
    exception groups by the nurseries on its way out) comes out as a plain
    KeyboardInterrupt, as from any trio program; the connections closed on the way."""
    try:
        yield
    except BaseExceptionGroup as group:
        if _only_interrupts(group):
            raise KeyboardInterrupt from None
        raise


@asynccontextmanager
async def serve_tcp(
    host: str,
    port: int,
    *,
    authenticate: Authenticate | None = None,
    ssl_context: ssl.SSLContext | None = None,
    limits: TcpLimits | None = None,
    may_relay: MayRelay | None = None,
    grace: float = 2.0,
) -> AsyncIterator[TcpServerTransport]:
    """A :class:`TcpServerTransport` listening on ``host:port`` (port 0: any free port,
    then read ``server.port``) for the body of the ``async with``; on leaving it, queued
    writes get up to ``grace`` seconds, then every connection closes."""
    server = TcpServerTransport(
        host,
        port,
        authenticate=authenticate,
        ssl_context=ssl_context,
        limits=limits,
        may_relay=may_relay,
    )
    async with _running(server.serve, server.drain, grace):
        yield server


@asynccontextmanager
async def connect_tcp(
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    credentials: Mapping[Address, str] | Callable[[Address], str] | None = None,
    limits: TcpLimits | None = None,
    backoff: Backoff | None = None,
    grace: float = 2.0,
) -> AsyncIterator[TcpClientTransport]:
    """A :class:`TcpClientTransport` to the server at ``host:port`` for the body of the
    ``async with``; on leaving it, queued writes get up to ``grace`` seconds, then every
    connection closes."""
    client = TcpClientTransport(
        host,
        port,
        ssl_context=ssl_context,
        server_hostname=server_hostname,
        credentials=credentials,
        limits=limits,
        backoff=backoff,
    )
    async with _running(client.run, client.drain, grace):
        yield client
