"""One accepted connection on the server: its hello phase, authentication, read loop and
relay."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import trio

from protocol import (
    Address,
    ErrorCode,
    Message,
    message_type,
)
from protocol.lowlevel import (
    ConnectionClosed,
    ConnectionState,
    FrameRefused,
    Hello,
    HelloReceived,
    MessageReceived,
    ServerConnection,
    is_address,
)

from ._errors import AuthenticationError, TransportError, UnknownAddress
from ._tcp_config import _STREAM_ERRORS, _describe, log
from ._tcp_link import _Link
from ._transport import Envelope

if TYPE_CHECKING:  # the transport creates its connections: a cycle only for types
    from ._tcp_server import TcpServerTransport


class _ServerSide:
    """One accepted connection on the server."""

    def __init__(self, server: TcpServerTransport, raw: trio.SocketStream) -> None:
        self.server = server
        self.address: Address | None = None
        self.stream: trio.abc.Stream = raw
        if server.ssl_context is not None:
            self.stream = trio.SSLStream(raw, server.ssl_context, server_side=True)
        self.peer = "?"  # the network address, for the per-peer cap
        try:
            host, port = raw.socket.getpeername()[:2]
            self.peer = str(host)
            self.label = f"connection from {host}:{port}"
        except OSError:
            self.label = "connection"
        limits = server.limits
        self.conn = ServerConnection(
            max_frame_bytes=limits.max_frame_bytes,
            max_errors=limits.max_errors,
            max_hello_frame_bytes=limits.max_hello_frame_bytes,
        )
        # Before the hello no read is larger than the largest hello frame (the header too):
        # an unauthenticated connection never buffers much more than that.
        self._hello_read = min(limits.receive_size, limits.max_hello_frame_bytes + 4)
        self.link: _Link | None = None

    async def turn_away(self, detail: str) -> None:
        """Refuse the connection at once as ``overloaded`` (no room for it), say why, close."""
        server = self.server
        server.stats.turned_away += 1
        server.stats.refused[ErrorCode.OVERLOADED] += 1
        log.warning("%s: turned away: %s", self.label, detail)
        self.conn.refuse(ErrorCode.OVERLOADED, detail)
        link = _Link(self.stream, self.conn, server.limits, server.stats, self.label)
        with link.scope:
            await link.close_politely(flush=True)  # bounded: a lingering close's time limit

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
                    conn.receive_data(await self.stream.receive_some(self._hello_read))
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
                        if mailbox.put(Envelope(address, recipient, event.message)):
                            # Its share is full: stop reading (TCP slows the peer).
                            stats.held_back += 1
                            await mailbox.wait_for_space(address)
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
        # The policy before the lookup: a refusal that depended on whether the recipient
        # is connected would tell anyone who is online (a presence oracle).
        may_relay = server.may_relay
        if may_relay is not None and not may_relay(address, recipient, message):
            self.conn.refuse_message(
                event.frame_id,
                ErrorCode.UNAUTHORIZED,
                f"{address} may not send {message_type(message)} to {recipient}",
            )
            stats.refused[ErrorCode.UNAUTHORIZED] += 1
            return True
        target = server._connections.get(recipient)
        if target is None:
            stats.unroutable += 1
            log.debug("%s: nobody at %s: %s dropped", address, recipient, message)
            return False
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
