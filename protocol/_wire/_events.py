"""A connection's states and the events its state machines report."""

from __future__ import annotations

import enum

import attrs

from protocol._core._effects import Address
from protocol._core._messages import ErrorReply, Message

from ._hello import Hello


class ConnectionState(enum.Enum):
    """Where a connection is in its life."""

    AWAITING_HELLO = "awaiting-hello"  # server: no hello yet; client: no hello-ack yet
    AUTHENTICATING = "authenticating"  # server: hello read, call accept() or refuse()
    OPEN = "open"
    CLOSED = "closed"  # write what data_to_send() still holds, then close the stream


@attrs.frozen
class HelloReceived:
    """Server: the client said hello; authenticate it, then :meth:`ServerConnection.accept`
    or :meth:`ServerConnection.refuse`."""

    hello: Hello


@attrs.frozen
class Connected:
    """Client: the server accepted the hello; the connection speaks for ``address``."""

    address: Address


@attrs.frozen
class MessageReceived:
    """A protocol message arrived. Server side: ``recipient`` is the frame's ``to`` (the
    sender is the connection's authenticated address). Client side: ``sender`` is the
    frame's ``from``."""

    frame_id: int
    message: Message
    sender: Address | None = None
    recipient: Address | None = None


@attrs.frozen
class FrameRefused:
    """This side refused one of the peer's frames; ``reply`` is queued for it."""

    reply: ErrorReply
    refers_to: int | None
    fatal: bool


@attrs.frozen
class PeerRefused:
    """Client: the server refused one of this side's frames (or its hello)."""

    reply: ErrorReply
    refers_to: int | None


@attrs.frozen
class ConnectionClosed:
    """The connection is over: write what is queued, then close the stream. ``foreign``:
    the peer sent what no side of this protocol sends (a frame that does not decode, or a
    first frame that is no hello-ack): it speaks another protocol, and reconnecting to it
    cannot help (a client's caller stops retrying on it)."""

    reason: str
    foreign: bool = False


ServerEvent = HelloReceived | MessageReceived | FrameRefused | ConnectionClosed
ClientEvent = Connected | MessageReceived | PeerRefused | ConnectionClosed
