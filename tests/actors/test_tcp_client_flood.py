"""A hostile server floods a client (issue 14's leftover: a client's mailbox had no
bound): the client stops reading once ``max_mailbox`` messages wait for its party, so it
holds at most that plus one read's frames, and loses nothing: once the party takes them,
every message arrives, in order. Against the planted unbounded mailbox
(``tests/planted/unbounded_client_mailbox.py``) the client holds the whole flood."""

from __future__ import annotations

import struct
from functools import partial

import pytest
import trio

from actors import TcpClientEndpoint, TcpLimits, connect_tcp
from protocol import CLOUD, WIRE_VERSION, UploadAck, phone_address
from protocol.lowlevel import Hello, HelloAck, encode_frame
from tests.actors.test_tcp import HOST, Raw
from tests.planted.unbounded_client_mailbox import UnboundedMailbox

FLOOD = 60_000
LIMITS = TcpLimits(max_mailbox=1_000)
PHONE = phone_address("+8613800000001")


def _flood_bytes() -> bytes:
    """``FLOOD`` upload-acks from the cloud (R1, R2, ...), frame ids 2, 3, ..."""
    frames = []
    for n in range(1, FLOOD + 1):
        payload = (
            b'{"v":%d,"id":%d,"from":"cloud","type":"upload-ack",'
            b'"body":{"receipt_id":"R%d","merchant_id":"shop-01"}}' % (WIRE_VERSION, n + 1, n)
        )
        frames.append(struct.pack(">I", len(payload)) + payload)
    return b"".join(frames)


async def _flooded(take_all: bool) -> tuple[int, int, list[str]]:
    """A server that accepts the hello and floods; the party does not take anything
    until the client has stopped reading. Returns (the most messages the client held,
    times it stopped reading, the receipt ids taken afterwards if ``take_all``)."""
    flood = _flood_bytes()

    async def handler(stream: trio.SocketStream) -> None:
        raw = Raw(stream)
        hello = (await raw.frame()).message
        assert isinstance(hello, Hello)
        await stream.send_all(encode_frame(HelloAck(WIRE_VERSION, hello.address), 1))
        await stream.send_all(flood)
        await trio.sleep_forever()

    taken: list[str] = []
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(partial(trio.serve_tcp, handler, 0, host=HOST))
            port = listeners[0].socket.getsockname()[1]
            async with connect_tcp(HOST, port, limits=LIMITS) as client:
                endpoint: TcpClientEndpoint = client.open_endpoint(PHONE)
                most = await _most_held(endpoint)
                held_back = client.stats.held_back
                while take_all and len(taken) < FLOOD:
                    envelope = await endpoint.receive()
                    assert envelope.sender == CLOUD and isinstance(envelope.message, UploadAck)
                    taken.append(envelope.message.receipt_id)
            nursery.cancel_scope.cancel()
    return most, held_back, taken


async def _most_held(endpoint: TcpClientEndpoint) -> int:
    """The most messages waiting for the party while nothing takes them: watched until
    the count stays put for 0.5 s (the client stopped reading, or read everything)."""
    most, still_since = 0, trio.current_time()
    while trio.current_time() - still_since < 0.5:
        await trio.sleep(0.02)
        held = len(endpoint.mailbox.queue)
        if held > most:
            most, still_since = held, trio.current_time()
    return most


async def test_a_flooded_client_holds_its_bound_and_loses_nothing() -> None:
    most, held_back, taken = await _flooded(take_all=True)
    per_read = LIMITS.receive_size // 60  # a frame here is more than 60 bytes
    assert LIMITS.max_mailbox <= most <= LIMITS.max_mailbox + per_read
    assert held_back >= 1
    assert taken == [f"R{n}" for n in range(1, FLOOD + 1)]  # every one, in order


async def test_planted_an_unbounded_client_mailbox_holds_the_whole_flood(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("actors._tcp_client_endpoint._Mailbox", UnboundedMailbox)
    most, held_back, _ = await _flooded(take_all=False)
    assert most > 10 * LIMITS.max_mailbox and held_back == 0
