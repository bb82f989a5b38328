"""The TCP transport's knobs (limits, reconnection backoff), its counters and the
callback types of the server."""

from __future__ import annotations

import collections
import logging
import random
import ssl
from collections.abc import Awaitable, Callable

import attrs
import trio

from protocol import (
    Address,
    ErrorCode,
    Message,
)
from protocol.lowlevel import (
    MAX_ERRORS_PER_CONNECTION,
    MAX_FRAME_BYTES,
    MAX_HELLO_FRAME_BYTES,
    ConfigValidators,
    Hello,
)

from ._errors import TransportError

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
    * ``max_connections``: server: connections open at once; more are refused
      (``overloaded``) and closed on accept.
    * ``max_connections_per_peer``: server: connections open at once from one network
      address (authenticated or not); more are refused (``overloaded``) and closed, so
      that one host cannot take more than a quarter of the slots (by default).
    * ``max_mailbox``: server: messages waiting for a local party before the connections
      feeding it stop reading (TCP back-pressure instead of unbounded memory); client:
      messages waiting for the endpoint's party before its connection stops reading until
      half are taken (a flooding server is slowed by TCP; nothing is dropped).
    * ``max_queued_per_connection``: server: messages of one connection waiting for a
      local party; over it that connection alone stops being read until half are taken
      (its fair share: the local party takes one message of each connection in turn).
    * ``max_frame_bytes``, ``max_errors``: see ``protocol.lowlevel.MAX_FRAME_BYTES`` and
      ``protocol.lowlevel.MAX_ERRORS_PER_CONNECTION``.
    * ``max_hello_frame_bytes``: server: the largest frame read before the hello is
      accepted (``protocol.lowlevel.MAX_HELLO_FRAME_BYTES``); a longer length prefix is
      refused (``frame-too-large``) and the connection closed.
    * ``connect_timeout``: client: one TCP connect.
    """

    hello_timeout: float = attrs.field(default=10.0, validator=_seconds)
    frame_timeout: float = attrs.field(default=10.0, validator=_seconds)
    write_timeout: float = attrs.field(default=10.0, validator=_seconds)
    connect_timeout: float = attrs.field(default=10.0, validator=_seconds)
    max_send_queue_bytes: int = attrs.field(default=4 * 1024 * 1024, validator=_bound)
    max_pending: int = attrs.field(default=10_000, validator=_bound)
    max_connections: int = attrs.field(default=4096, validator=_bound)
    max_connections_per_peer: int = attrs.field(default=1024, validator=_bound)
    max_mailbox: int = attrs.field(default=10_000, validator=_bound)
    max_queued_per_connection: int = attrs.field(default=64, validator=_bound)
    max_frame_bytes: int = attrs.field(default=MAX_FRAME_BYTES, validator=_bound)
    max_errors: int = attrs.field(default=MAX_ERRORS_PER_CONNECTION, validator=_bound)
    max_hello_frame_bytes: int = attrs.field(default=MAX_HELLO_FRAME_BYTES, validator=_bound)
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
    turned_away: int = 0  # refused at once (overloaded): over a connection cap (server)
    connected: int = 0  # hellos accepted (server) or connections established (client)
    hellos_refused: int = 0  # unauthorized, wrong version, no hello (server); refused (client)
    timeouts: int = 0  # no hello or no complete frame in time
    stalled: int = 0  # closed: the peer did not read (send queue or write timeout)
    dropped: int = 0  # connections lost to network errors
    replaced: int = 0  # an address connected again: the older connection was closed
    messages_in: int = 0  # protocol messages received
    held_back: int = 0  # times a connection was not read: its share of the mailbox was full
    relayed: int = 0  # client -> client messages passed on (server)
    unroutable: int = 0  # client messages for an address with no party (dropped)
    refused: collections.Counter[str] = attrs.field(factory=collections.Counter)
    """Frames refused, by error code (server: refused by this side; client: by the server)."""


def _describe(exc: BaseException) -> str:
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    text = str(cause) or type(cause).__name__
    return " ".join(text.split())
