"""The server side of the TCP transport: listening, routing, the local parties."""

from __future__ import annotations

import ssl

import trio

from protocol import (
    Address,
    Message,
)
from protocol.lowlevel import (
    Hello,
    is_address,
)

from ._errors import TransportError, UnknownAddress
from ._tcp_config import Authenticate, MayRelay, TcpLimits, TcpStats, _describe, log
from ._tcp_link import _close, _keepalive, _Watchdog
from ._tcp_mailbox import _FairMailbox
from ._tcp_running import _interrupts_unwrapped
from ._tcp_server_side import _ServerSide
from ._transport import Envelope


class TcpLocalEndpoint:
    """A party hosted by the server process itself (the cloud) on a
    :class:`TcpServerTransport`."""

    def __init__(self, server: TcpServerTransport, address: Address) -> None:
        self._server = server
        self._address = address
        limits = server.limits
        self.mailbox = _FairMailbox(limits.max_mailbox, limits.max_queued_per_connection)
        self.receive_nowait = self.mailbox.receive_nowait

    @property
    def address(self) -> Address:
        return self._address

    @property
    def queued(self) -> int:
        """Messages waiting in this party's mailbox now."""
        return self.mailbox.size

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
        self._per_peer: dict[str, int] = {}  # connections open now, by network address
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
        side = _ServerSide(self, raw)
        peer = side.peer
        limits = self.limits
        from_peer = self._per_peer.get(peer, 0)
        if len(self._open) >= limits.max_connections:
            detail = f"the server is full ({len(self._open)} connections): try again later"
        elif from_peer >= limits.max_connections_per_peer:
            detail = (
                f"{from_peer} connections from {peer} are open, the most one address may "
                "hold: close one or try again later"
            )
        else:
            detail = ""
        if detail:
            try:
                await side.turn_away(detail)
            finally:
                await _close(side.stream)
            return
        _keepalive(raw)
        self._open.add(side)
        self._per_peer[peer] = from_peer + 1
        try:
            await side.run()
        except Exception:  # a bug must cost one connection, never the server
            log.exception("%s: unexpected error", side.label)
        finally:
            self._open.discard(side)
            left = self._per_peer[peer] - 1
            if left:
                self._per_peer[peer] = left
            else:
                del self._per_peer[peer]
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
