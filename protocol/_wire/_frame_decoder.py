"""Cutting a byte stream into frames at their length prefixes."""

from __future__ import annotations

from collections.abc import Iterator

from protocol._core._errors import LocalProtocolError

from ._decode import _decode, _Decoded, decode_payload
from ._envelope import Frame
from ._limits import _HEADER, FRAME_HEADER_BYTES, MAX_FRAME_BYTES
from ._refusals import FrameTooLarge, TruncatedFrame, WireError


class FrameDecoder:
    """Cuts a byte stream into frames: :meth:`feed` it bytes, then read :meth:`frames`.

    A bad frame raises its :class:`WireError` *after* being consumed, so reading can go on
    with the next frame; a fatal one (oversized length, stream cut inside a frame) is
    raised again on every later read: the stream cannot be trusted any more.
    """

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        if not 0 < max_frame_bytes <= MAX_FRAME_BYTES:
            raise LocalProtocolError(f"max_frame_bytes must be in 1..{MAX_FRAME_BYTES}")
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self._start = 0
        self._eof = False
        self._broken: WireError | None = None
        self.payloads = 0  # payloads cut so far (complete frames, good or bad)

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Add bytes received from the stream."""
        if self._eof:
            raise LocalProtocolError("FrameDecoder.feed after feed_eof")
        self._buffer += data

    def feed_eof(self) -> None:
        """The stream ended: a partial frame left in the buffer is now an error."""
        self._eof = True

    @property
    def buffered(self) -> int:
        """Bytes received and not yet returned as a frame."""
        return len(self._buffer) - self._start

    @property
    def in_frame(self) -> bool:
        """Part of a frame is buffered (the rest has not arrived yet)."""
        return len(self._buffer) > self._start

    @property
    def at_eof(self) -> bool:
        """The stream ended cleanly, between two frames, and every frame was read."""
        return self._eof and not self.in_frame and self._broken is None

    def next_payload(self) -> bytes | None:
        """The next complete payload, or None until more bytes arrive."""
        if self._broken is not None:
            raise self._broken
        buffer = self._buffer
        start = self._start
        available = len(buffer) - start
        if available < FRAME_HEADER_BYTES:
            if self._eof and available:
                detail = f"the stream ended inside a length prefix ({available} of 4 bytes)"
                self._fail(TruncatedFrame(detail))
            return None
        (size,) = _HEADER.unpack_from(buffer, start)
        if size > self.max_frame_bytes:
            self._fail(
                FrameTooLarge(
                    f"a frame announced {size} bytes, more than the {self.max_frame_bytes} allowed"
                )
            )
        end = start + FRAME_HEADER_BYTES + size
        if len(buffer) < end:
            if self._eof:
                self._fail(
                    TruncatedFrame(
                        f"the stream ended inside a frame ({available - FRAME_HEADER_BYTES} "
                        f"of {size} bytes)"
                    )
                )
            return None
        payload = bytes(buffer[start + FRAME_HEADER_BYTES : end])
        self.payloads += 1
        if end == len(buffer):
            buffer.clear()
            self._start = 0
        elif end > 65536 and end > len(buffer) // 2:
            del buffer[:end]
            self._start = 0
        else:
            self._start = end
        return payload

    def next_frame(self) -> Frame | None:
        """The next decoded frame, or None until more bytes arrive; raises WireError."""
        payload = self.next_payload()
        if payload is None:
            return None
        return decode_payload(payload)

    def _next_decoded(self) -> _Decoded | None:
        """:meth:`next_frame` as a plain tuple (for the connections' hot path)."""
        payload = self.next_payload()
        if payload is None:
            return None
        return _decode(payload)

    def frames(self) -> Iterator[Frame]:
        """Every complete frame buffered now, in order (see the class for errors)."""
        while (frame := self.next_frame()) is not None:
            yield frame

    def _fail(self, error: WireError) -> None:
        self._broken = error
        raise error
