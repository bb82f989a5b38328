"""What both ends of a connection share: the frame decoder, the coalesced output queue,
frame numbering."""

from __future__ import annotations

from protocol._core._effects import Address

from ._encode import encode_frame
from ._events import ConnectionClosed, ConnectionState
from ._frame_decoder import FrameDecoder
from ._hello import WireMessage


class _Connection:
    def __init__(self, max_frame_bytes: int) -> None:
        self.state = ConnectionState.AWAITING_HELLO
        self._decoder = FrameDecoder(max_frame_bytes)
        self._out: list[bytes] = []
        self._out_bytes = 0
        self._next_id = 1
        self._last_peer_id = 0
        self.closed_reason: str | None = None

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Bytes read from the stream; ``b""`` means the peer closed it."""
        if self.state is ConnectionState.CLOSED:
            return
        if data:
            self._decoder.feed(data)
        else:
            self._decoder.feed_eof()

    def data_to_send(self) -> bytes:
        """Everything queued for the peer (coalesced), emptying the queue."""
        out = self._out
        if not out:
            return b""
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        self._out_bytes = 0
        return data

    @property
    def outgoing_bytes(self) -> int:
        """Bytes queued and not yet taken by :meth:`data_to_send`."""
        return self._out_bytes

    @property
    def in_frame(self) -> bool:
        """The peer has sent part of a frame (for timing out a stalled peer)."""
        return self._decoder.in_frame

    @property
    def frames_received(self) -> int:
        """Complete frames read from the peer so far (good or bad)."""
        return self._decoder.payloads

    def _emit(
        self,
        message: WireMessage,
        *,
        sender: Address | None = None,
        recipient: Address | None = None,
        refers_to: int | None = None,
    ) -> None:
        frame_id = self._next_id
        self._next_id = frame_id + 1
        frame = encode_frame(
            message, frame_id, sender=sender, recipient=recipient, refers_to=refers_to
        )
        self._out.append(frame)
        self._out_bytes += len(frame)

    def _close(self, reason: str, *, foreign: bool = False) -> ConnectionClosed:
        self.state = ConnectionState.CLOSED
        self.closed_reason = reason
        return ConnectionClosed(reason, foreign)
