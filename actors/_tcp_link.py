"""One stream and its sans-I/O connection: the coalescing writer, frame timeouts, a
polite close, and the watchdog of stuck writes."""

from __future__ import annotations

import contextlib
import math
import socket
from collections.abc import Awaitable, Callable

import trio

from protocol.lowlevel import (
    ClientConnection,
    ServerConnection,
)

from ._tcp_config import _STREAM_ERRORS, TcpLimits, TcpStats, log


class _Link:
    """One stream and its sans-I/O connection: a coalescing writer task and a read loop.

    Everything queued on ``conn`` between two wake-ups of the writer goes out in one
    ``send_all``: that is what makes TCP fast here (see docs/wire-format.md).
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        conn: ServerConnection | ClientConnection,
        limits: TcpLimits,
        stats: TcpStats,
        label: str,
    ) -> None:
        self.stream = stream
        self.conn = conn
        self.limits = limits
        self.stats = stats
        self.label = label
        self.scope = trio.CancelScope()
        self.closing = False  # the writer flushes what is queued, then returns
        self.failure: str | None = None
        self._wake = trio.Event()
        self.write_started: float | None = None  # when the write in progress began
        self._writer_running = False
        self._idle: trio.Event | None = None
        self._frame_mark = -1  # frames_received when the partial frame was first seen
        self._frame_deadline = math.inf

    def kick(self) -> None:
        """Something was queued on the connection: wake the writer."""
        wake = self._wake
        if not wake.is_set():
            wake.set()

    def abort(self, reason: str) -> None:
        """Close the connection now (from any task)."""
        if self.failure is None:
            self.failure = reason
            log.info("%s: closing: %s", self.label, reason)
        self.scope.cancel()

    async def run(self, read_loop: Callable[[_Link], Awaitable[None]]) -> None:
        """The open connection's life: the writer task, and ``read_loop`` in this one,
        until the read loop ends (then the writer flushes and stops) or the link fails.
        Stream errors end the link here: they never leave it (wrapped in a group)."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.writer)
            try:
                await read_loop(self)
            except _STREAM_ERRORS as exc:
                self.stats.dropped += 1
                self.abort(f"read failed: {_describe(exc)}")
            finally:
                self.closing = True
                self.kick()

    async def writer(self) -> None:
        """Write everything queued, coalesced, until closing and drained (or failure)."""
        conn = self.conn
        stream = self.stream
        self._writer_running = True
        try:
            while True:
                data = conn.data_to_send()
                if data:
                    # No cancel scope per write (one costs as much as the write itself):
                    # a _Watchdog aborts a write stuck for longer than the write timeout.
                    self.write_started = trio.current_time()
                    await stream.send_all(data)
                    self.write_started = None
                    continue
                idle = self._idle
                if idle is not None:
                    self._idle = None
                    idle.set()
                if self.closing:
                    return
                await self._wake.wait()
                self._wake = trio.Event()
        except _STREAM_ERRORS as exc:
            self.stats.dropped += 1
            self.abort(f"write failed: {_describe(exc)}")
        finally:
            self._writer_running = False
            idle, self._idle = self._idle, None
            if idle is not None:
                idle.set()

    async def drained(self) -> None:
        """Wait until everything queued so far is written (while the writer runs)."""
        while self.write_started is not None or self.conn.outgoing_bytes:
            if self.scope.cancel_called or not self._writer_running:
                return
            idle = self._idle
            if idle is None:
                idle = self._idle = trio.Event()
            self.kick()
            await idle.wait()

    async def read_some(self) -> bytes | bytearray | None:
        """The next bytes from the peer (``b""`` at its end), or None if the frame being
        received did not complete within ``frame_timeout`` of its first byte."""
        if not self.conn.in_frame:
            self._frame_mark = -1
            return await self.stream.receive_some(self.limits.receive_size)
        received = self.conn.frames_received
        if self._frame_mark != received:  # a new partial frame: its clock starts now
            self._frame_mark = received
            self._frame_deadline = trio.current_time() + self.limits.frame_timeout
        with trio.move_on_at(self._frame_deadline):
            return await self.stream.receive_some(self.limits.receive_size)
        return None

    async def close_politely(self, *, flush: bool) -> None:
        """Before closing after a refusal: write what is queued (if ``flush``; else the
        writer did), send end-of-stream, then read and drop what the peer still sends,
        briefly (a "lingering close"), so that closing with unread input does not reset
        the connection and destroy the refusal before the peer reads it."""
        stream = self.stream
        transport = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
        with trio.move_on_after(_LINGER_SECONDS), contextlib.suppress(*_STREAM_ERRORS):
            data = self.conn.data_to_send() if flush else b""
            if data:
                await stream.send_all(data)
            if isinstance(transport, trio.SocketStream):
                await transport.send_eof()
            dropped = 0
            while dropped < _LINGER_BYTES:
                chunk = await transport.receive_some(self.limits.receive_size)
                if not chunk:
                    break
                dropped += len(chunk)


_LINGER_SECONDS = 0.5
_LINGER_BYTES = 1024 * 1024


class _Watchdog:
    """One task per transport that closes the links whose write has made no progress for
    ``write_timeout`` (a peer that does not read), checking a few times per timeout."""

    def __init__(self, limits: TcpLimits, stats: TcpStats) -> None:
        self.limits = limits
        self.stats = stats
        self.links: set[_Link] = set()

    async def run(self) -> None:
        timeout = self.limits.write_timeout
        period = min(max(timeout / 4, 0.01), 1.0)
        while True:
            await trio.sleep(period)
            now = trio.current_time()
            for link in list(self.links):
                started = link.write_started
                if started is not None and now - started > timeout:
                    self.stats.stalled += 1
                    link.abort(f"the peer read nothing for {timeout:g} s (write timed out)")


def _describe(exc: BaseException) -> str:
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    text = str(cause) or type(cause).__name__
    return " ".join(text.split())


def _keepalive(stream: trio.SocketStream) -> None:
    with contextlib.suppress(OSError):  # not every platform allows it
        stream.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


async def _close(stream: trio.abc.AsyncResource) -> None:
    await trio.aclose_forcefully(stream)
