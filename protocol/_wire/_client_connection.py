"""The client's end of one connection (sans-I/O): its hello, the server's ack, then
messages."""

from __future__ import annotations

from protocol._core._effects import Address
from protocol._core._errors import LocalProtocolError
from protocol._core._messages import ErrorReply, Message

from ._connection import _Connection
from ._events import ClientEvent, Connected, ConnectionState, MessageReceived, PeerRefused
from ._hello import Hello, HelloAck, _type_name
from ._limits import MAX_FRAME_BYTES
from ._refusals import WireError


class ClientConnection(_Connection):
    """The client's side of one connection: queues its :class:`Hello` at once, waits for
    the :class:`HelloAck`, then carries messages. A bad frame from the server closes the
    connection (the client does not argue with its server)."""

    def __init__(self, hello: Hello, *, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        super().__init__(max_frame_bytes)
        self.hello = hello
        self._emit(hello)

    @property
    def address(self) -> Address:
        return self.hello.address

    def events(self) -> list[ClientEvent]:
        """What the bytes received so far mean."""
        out: list[ClientEvent] = []
        decoder = self._decoder
        while self.state is ConnectionState.OPEN or self.state is ConnectionState.AWAITING_HELLO:
            try:
                decoded = decoder._next_decoded()
            except WireError as error:
                out.append(self._close(f"the server sent a bad frame: {error}", foreign=True))
                break
            if decoded is None:
                if decoder.at_eof:
                    out.append(self._close("the server closed the connection"))
                break
            frame_id, message, sender, recipient, refers_to = decoded
            if frame_id <= self._last_peer_id:
                out.append(self._close(f"the server's frame ids went back to {frame_id}"))
                break
            self._last_peer_id = frame_id
            if isinstance(message, ErrorReply) and sender is None:
                out.append(PeerRefused(message, refers_to))
                if self.state is ConnectionState.AWAITING_HELLO:
                    out.append(self._close(f"hello refused: {message.code}: {message.detail}"))
                continue
            if self.state is ConnectionState.AWAITING_HELLO:
                hello = self.hello
                if (
                    isinstance(message, HelloAck)
                    and message.version == hello.version
                    and message.address == hello.address
                ):
                    self.state = ConnectionState.OPEN
                    out.append(Connected(message.address))
                else:
                    reason = f"expected a hello-ack for {hello.address}, got {_type_name(message)}"
                    out.append(self._close(reason, foreign=True))
                continue
            if isinstance(message, Hello | HelloAck) or sender is None:
                kind = _type_name(message)
                out.append(self._close(f"the server sent an unexpected {kind} frame"))
                continue
            if recipient is not None and recipient != self.hello.address:
                out.append(self._close(f"the server sent a frame for {recipient}"))
                continue
            out.append(MessageReceived(frame_id, message, sender, None))
        return out

    def send(self, message: Message, recipient: Address) -> None:
        """Queue ``message`` for ``recipient`` (once the connection is open)."""
        if self.state is not ConnectionState.OPEN:
            raise LocalProtocolError(f"send() on a connection in state {self.state.value}")
        self._emit(message, recipient=recipient)
