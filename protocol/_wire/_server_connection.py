"""The server's end of one connection (sans-I/O): hello, authentication, then messages."""

from __future__ import annotations

from protocol._core._effects import Address
from protocol._core._errors import LocalProtocolError
from protocol._core._messages import ErrorCode, ErrorReply, Message

from ._codec import (
    WIRE_VERSION,
)
from ._connection import _Connection
from ._envelope import Frame
from ._events import ConnectionState, FrameRefused, HelloReceived, MessageReceived, ServerEvent
from ._hello import Hello, HelloAck, _type_name
from ._limits import (
    MAX_ERRORS_PER_CONNECTION,
    MAX_FRAME_BYTES,
    MAX_HELLO_FRAME_BYTES,
    is_address,
)
from ._refusals import (
    HelloRequired,
    MalformedFrame,
    UnexpectedFrame,
    UnsupportedVersion,
    WireError,
    _cut,
)


class ServerConnection(_Connection):
    """The server's side of one connection: hello, authentication, then messages.

    Rules it enforces (each breach answered by an :class:`~protocol.ErrorReply`):

    * the first frame must be a :class:`Hello` of this side's version (``hello-required``,
      ``unsupported-version``; both close the connection);
    * a client frame carries ``to`` and never ``from`` or ``re`` (``malformed-frame``);
    * frame ids strictly increase (``malformed-frame``);
    * no hello or hello-ack once open (``unexpected-message``);
    * bodies are valid messages (``invalid-message``), payloads UTF-8 JSON envelopes
      (``malformed-frame``), lengths within ``max_frame_bytes`` (``frame-too-large``,
      closes); until the hello is accepted, within ``max_hello_frame_bytes`` (an
      unauthenticated peer never makes the server hold more).

    After ``max_errors`` refused frames, or any refusal before the hello is accepted, the
    connection closes.
    """

    def __init__(
        self,
        *,
        version: int = WIRE_VERSION,
        max_frame_bytes: int = MAX_FRAME_BYTES,
        max_errors: int = MAX_ERRORS_PER_CONNECTION,
        max_hello_frame_bytes: int = MAX_HELLO_FRAME_BYTES,
    ) -> None:
        super().__init__(min(max_hello_frame_bytes, max_frame_bytes))
        self.max_frame_bytes = max_frame_bytes
        self.version = version
        self.max_errors = max_errors
        self.errors = 0
        self.hello: Hello | None = None
        self.address: Address | None = None

    def events(self) -> list[ServerEvent]:
        """What the bytes received so far mean; stops after a :class:`HelloReceived`
        until :meth:`accept` or :meth:`refuse` is called."""
        out: list[ServerEvent] = []
        decoder = self._decoder
        while self.state is ConnectionState.OPEN or self.state is ConnectionState.AWAITING_HELLO:
            try:
                decoded = decoder._next_decoded()
            except WireError as exc:
                self._refuse_frame(exc, out)
                continue
            if decoded is None:
                if decoder.at_eof:
                    out.append(self._close("the client closed the connection"))
                break
            if self.state is ConnectionState.AWAITING_HELLO:
                if self._on_hello(Frame(*decoded), out):
                    break
                continue
            frame_id, message, sender, recipient, refers_to = decoded
            if frame_id <= self._last_peer_id:
                self._refuse_frame(
                    MalformedFrame(
                        f"frame id {frame_id} is not greater than the previous one "
                        f"({self._last_peer_id})",
                        frame_id=frame_id,
                    ),
                    out,
                )
                continue
            self._last_peer_id = frame_id
            if isinstance(message, Hello | HelloAck):
                error: WireError = UnexpectedFrame(
                    f"{_type_name(message)} is not expected on an open connection",
                    frame_id=frame_id,
                )
            elif recipient is None:
                error = MalformedFrame(
                    "a client's frame must name its recipient in 'to'", frame_id=frame_id
                )
            elif sender is not None:
                error = MalformedFrame(
                    "a client's frame must not carry 'from': the connection says who sent it",
                    frame_id=frame_id,
                )
            elif refers_to is not None:
                error = MalformedFrame("a client's frame must not carry 're'", frame_id=frame_id)
            else:
                out.append(MessageReceived(frame_id, message, None, recipient))
                continue
            self._refuse_frame(error, out)
        return out

    def _on_hello(self, frame: Frame, out: list[ServerEvent]) -> bool:
        hello = frame.message
        if not isinstance(hello, Hello):
            self._refuse_frame(
                HelloRequired(
                    f"the first frame must be a hello, got {frame.type}", frame_id=frame.id
                ),
                out,
            )
            return False
        if frame.sender is not None or frame.recipient is not None or frame.refers_to is not None:
            self._refuse_frame(
                MalformedFrame("a hello frame carries no 'from', 'to' or 're'", frame_id=frame.id),
                out,
            )
            return False
        if hello.version != self.version:
            self._refuse_frame(
                UnsupportedVersion(hello.version, self.version, frame_id=frame.id), out
            )
            return False
        self._last_peer_id = frame.id
        self.hello = hello
        self.state = ConnectionState.AUTHENTICATING
        out.append(HelloReceived(hello))
        return True

    def _refuse_frame(self, error: WireError, out: list[ServerEvent]) -> None:
        reply = error.reply()
        self._emit(reply, refers_to=error.frame_id)
        self.errors += 1
        fatal = (
            error.fatal or self.state is not ConnectionState.OPEN or self.errors >= self.max_errors
        )
        out.append(FrameRefused(reply, error.frame_id, fatal))
        if fatal:
            if error.fatal or self.state is not ConnectionState.OPEN:
                reason = f"{reply.code}: {reply.detail}"
            else:
                reason = f"{self.errors} frames refused (the last: {reply.code})"
            out.append(self._close(reason))

    def accept(self, address: Address) -> None:
        """The hello is authenticated: the connection speaks for ``address``."""
        if self.state is not ConnectionState.AUTHENTICATING:
            raise LocalProtocolError(f"accept() in state {self.state.value}: no hello to accept")
        if not is_address(address):
            raise LocalProtocolError(f"accept(): malformed address {address!r}")
        self.address = address
        self.state = ConnectionState.OPEN
        self._decoder.max_frame_bytes = self.max_frame_bytes  # authenticated: the full limit
        self._emit(HelloAck(self.version, address))

    def refuse(self, code: ErrorCode, detail: str) -> None:
        """Refuse the connection (e.g. ``unauthorized``, ``timeout``) and close it."""
        if self.state is ConnectionState.CLOSED:
            return
        self._emit(ErrorReply(code, _cut(detail)))
        self._close(f"{code}: {_cut(detail)}")

    def refuse_message(self, frame_id: int, code: ErrorCode, detail: str) -> None:
        """Refuse one message the client sent (frame ``frame_id``), keeping the connection
        open: e.g. a relay the server's policy forbids. Not counted as a client error."""
        if self.state is not ConnectionState.OPEN:
            raise LocalProtocolError(f"refuse_message() in state {self.state.value}")
        self._emit(ErrorReply(code, _cut(detail)), refers_to=frame_id)

    def send(self, message: Message, sender: Address) -> None:
        """Queue ``message`` from ``sender`` for the client."""
        if self.state is not ConnectionState.OPEN:
            raise LocalProtocolError(f"send() on a connection in state {self.state.value}")
        self._emit(message, sender=sender)
