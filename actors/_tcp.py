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

import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from protocol import Address

from ._tcp_client import TcpClientTransport
from ._tcp_client_endpoint import ConnectFailure, TcpClientEndpoint
from ._tcp_config import Authenticate, Backoff, MayRelay, TcpLimits, TcpStats
from ._tcp_running import _running
from ._tcp_server import TcpLocalEndpoint, TcpServerTransport

__all__ = [
    "Authenticate",
    "Backoff",
    "ConnectFailure",
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
