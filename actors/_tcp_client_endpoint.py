"""One party of a client process with its own connection: connect, hello, reconnect."""

from __future__ import annotations

import collections
import enum
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING

import trio

from protocol import (
    WIRE_VERSION,
    Address,
    Message,
)
from protocol.lowlevel import (
    ClientConnection,
    ConnectionClosed,
    ConnectionState,
    Hello,
    MessageReceived,
    PeerRefused,
)

from ._errors import HelloRefused, TlsVerificationFailed, TransportError
from ._tcp_config import _PERMANENT_REFUSALS, _STREAM_ERRORS, _describe, log
from ._tcp_link import _close, _Link
from ._tcp_mailbox import _Mailbox
from ._transport import Envelope

if TYPE_CHECKING:  # the transport creates its connections: a cycle only for types
    from ._tcp_client import TcpClientTransport


class ConnectFailure(enum.Enum):
    """Why a client's last connection attempt failed or its connection ended, by kind:
    what a caller decides on (retry, or stop and say why), where the text of
    :attr:`TcpClientEndpoint.last_error` is for people."""

    UNREACHABLE = "unreachable"  # no TCP connection (refused, no route, timed out)
    NO_HELLO_ACK = "no-hello-ack"  # connected, no answer to the hello in time
    REFUSED = "refused"  # the hello refused for now (overloaded, ...): a retry may pass
    CLOSED = "closed"  # the server closed the connection
    LOST = "lost"  # the connection reset or broke (TLS errors other than below included)
    STALLED = "stalled"  # the server sent part of a frame and no more
    FOREIGN = "foreign"  # the server sent what no cloud sends: another protocol
    NOT_TLS = "not-tls"  # TLS asked, and the server's answer is no TLS
    UNVERIFIED = "unverified"  # the server's TLS certificate failed verification


# OpenSSL's reasons for a handshake whose peer answered with bytes that are no TLS.
_NOT_TLS = frozenset(
    {
        "WRONG_VERSION_NUMBER",
        "PACKET_LENGTH_TOO_LONG",
        "RECORD_LAYER_FAILURE",
        "UNKNOWN_PROTOCOL",
        "HTTP_REQUEST",
    }
)


class TcpClientEndpoint:
    """One party of a client process, with its own connection to the server."""

    def __init__(self, client: TcpClientTransport, address: Address, credential: str) -> None:
        self._client = client
        self._address = address
        self._credential = credential
        self.mailbox = _Mailbox(client.limits.max_mailbox)
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
        self.last_failure: ConnectFailure | None = None
        """The kind of :attr:`last_error` (set together)."""

    @property
    def address(self) -> Address:
        return self._address

    def _failed(self, kind: ConnectFailure, error: str) -> None:
        self.last_failure = kind
        self.last_error = error

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
            self._failed(
                ConnectFailure.UNREACHABLE,
                f"cannot connect to {client.host}:{client.port}: {_describe(exc)}",
            )
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
                self._failed(ConnectFailure.LOST, link.failure)
            return True
        except trio.TooSlowError:  # only the hello phase has a deadline
            client.stats.timeouts += 1
            self._failed(
                ConnectFailure.NO_HELLO_ACK, f"no hello-ack within {limits.hello_timeout:g} s"
            )
            log.info("%s: %s", label, self.last_error)
            return False
        except _STREAM_ERRORS as exc:
            unverified = _unverified_certificate(exc)
            if unverified is not None:
                self._failed(
                    ConnectFailure.UNVERIFIED,
                    f"cannot verify the server's TLS certificate: {unverified}",
                )
                raise TlsVerificationFailed(self._address, unverified) from None
            client.stats.dropped += 1
            kind = ConnectFailure.NOT_TLS if _not_tls(exc) else ConnectFailure.LOST
            self._failed(kind, f"connection lost: {_describe(exc)}")
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
                        error = f"hello refused: {reply.code}: {reply.detail}"
                        self._failed(ConnectFailure.REFUSED, error)
                    elif isinstance(event, ConnectionClosed):
                        self._connection_closed(event)
                    elif isinstance(event, MessageReceived):
                        self._deliver(event)
        return conn.state is ConnectionState.OPEN

    def _connection_closed(self, event: ConnectionClosed) -> None:
        # A refused hello was counted as REFUSED just before its close: kept so.
        if self.last_failure is ConnectFailure.REFUSED and event.reason == self.last_error:
            return
        kind = ConnectFailure.FOREIGN if event.foreign else ConnectFailure.CLOSED
        self._failed(kind, event.reason)

    def deliver_directly(self, handler: Callable[[Envelope], None]) -> None:
        """Hand each message to ``handler`` in the connection's read task as it arrives
        (see :class:`~actors.DirectEndpoint`): one party per connection, so nothing else
        ever queues for it."""
        queue = self.mailbox.queue
        while queue:
            handler(queue.popleft())
        self._direct = handler

    def _deliver(self, event: MessageReceived) -> bool:
        """Hand the message on; True if the mailbox is full (stop reading for now)."""
        sender = event.sender
        assert sender is not None
        self._client.stats.messages_in += 1
        envelope = Envelope(sender, self._address, event.message)
        direct = self._direct
        if direct is not None:
            direct(envelope)
            return False
        return self.mailbox.put(envelope)

    async def _read_loop(self, link: _Link) -> None:
        conn = link.conn
        assert isinstance(conn, ClientConnection)
        stats = self._client.stats
        while True:
            full = False
            for event in conn.events():
                if isinstance(event, MessageReceived):
                    full = self._deliver(event) or full
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
                    self._connection_closed(event)
                    log.info("%s: connection closed: %s", self._address, event.reason)
            if conn.state is ConnectionState.CLOSED:
                return
            if full:  # the party has its fill: read nothing more until it takes half
                stats.held_back += 1
                await self.mailbox.wait_for_space()
            data = await link.read_some()
            if data is None:
                self._failed(ConnectFailure.STALLED, "the server sent part of a frame and stalled")
                return
            conn.receive_data(data)


def _not_tls(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a TLS handshake that met bytes that are no
    TLS: the server speaks plain TCP (or another protocol)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError) and cause.reason in _NOT_TLS:
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _unverified_certificate(exc: BaseException) -> str | None:
    """Why the server's certificate could not be verified, if that is what ``exc`` is."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return cause.verify_message or cause.reason or str(cause)
        cause = cause.__cause__ or cause.__context__
    return None
