"""The TCP (and TLS) transport, live on 127.0.0.1: the purchase flow through real actors,
authentication, bad input, stalled clients, reconnection, fuzzing and a bounded load test.

Every test binds port 0 (a free port each) and runs on the real clock, each wait bounded
by ``trio.fail_after``.
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import socket
import ssl
import struct
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache, partial
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trustme
from hypothesis import given
from hypothesis import strategies as st

from actors import (
    Actor,
    AuthenticationError,
    Backoff,
    ConnectFailure,
    DirectEndpoint,
    EventKind,
    HelloRefused,
    TcpClientEndpoint,
    TcpClientTransport,
    TcpLimits,
    TcpServerTransport,
    TlsVerificationFailed,
    TraceEvent,
    TransportError,
    UnknownAddress,
    connect_tcp,
    serve_tcp,
)
from protocol import (
    CLOUD,
    WIRE_VERSION,
    AssociatedProduct,
    AssociationPush,
    Checkout,
    CloudConfig,
    CloudMachine,
    Effects,
    ErrorCode,
    ErrorReply,
    InMemoryStore,
    Message,
    PhoneMachine,
    PhoneNote,
    PosMachine,
    PushReason,
    Reason,
    ReceiptKey,
    RuleRecommender,
    Subscribe,
    SubscribeAck,
    UploadAck,
    builtin_catalog,
    phone_address,
    pos_address,
)
from protocol.lowlevel import (
    Frame,
    FrameDecoder,
    Hello,
    HelloAck,
    encode_frame,
)
from tests.ports import restart_port
from tests.protocol.test_wire import TRANSPORT_REFUSALS, VALID_FRAMES, chop, frame_of, mutate

HOST = "127.0.0.1"
PHONE_A, PHONE_B = "+8613800000001", "+8613800000002"
POS = pos_address("shop-01", "pos-1")
FAST = TcpLimits(hello_timeout=0.5, frame_timeout=0.5, write_timeout=0.5)
QUICK_BACKOFF = Backoff(first=0.01, max=0.05)


# --------------------------------------------------------------------------- helpers


@cache
def certificates() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A throw-away CA, and (server, client) contexts for 127.0.0.1 signed by it."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST, "localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


def tls_options(tls: bool) -> tuple[ssl.SSLContext | None, ssl.SSLContext | None]:
    return certificates() if tls else (None, None)


def new_cloud(push_timeout: float = 600.0) -> CloudMachine:
    return CloudMachine(
        store=InMemoryStore(),
        recommender=RuleRecommender(),
        config=CloudConfig(push_timeout=push_timeout),
    )


@asynccontextmanager
async def cloud_server(
    *,
    push_timeout: float = 600.0,
    observer: Callable[[TraceEvent], None] | None = None,
    **options: Any,  # passed on to serve_tcp as they are
) -> AsyncIterator[tuple[TcpServerTransport, CloudMachine]]:
    """A server transport with a real cloud actor at ``cloud``."""
    cloud = new_cloud(push_timeout)
    async with serve_tcp(HOST, 0, **options) as server, trio.open_nursery() as nursery:
        actor = Actor(cloud, server.open_endpoint(CLOUD), observer=observer)
        await nursery.start(actor.run)
        yield server, cloud
        nursery.cancel_scope.cancel()


class Raw:
    """A hand-driven client on a plain socket: sends any bytes, reads frames strictly."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.decoder = FrameDecoder()
        self.frames: list[Frame] = []

    @classmethod
    async def connect(cls, port: int, *, hello: str | None = None, credential: str = "") -> Raw:
        raw = cls(await trio.open_tcp_stream(HOST, port))
        if hello is not None:
            await raw.send(encode_frame(Hello(WIRE_VERSION, hello, credential), 1))
            ack = await raw.frame()
            assert ack.message == HelloAck(WIRE_VERSION, hello), ack
        return raw

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def frame(self) -> Frame:
        while not self.frames:
            data = await self.stream.receive_some(65536)
            assert data, "the server closed the connection"
            self.decoder.feed(data)
            self.frames.extend(self.decoder.frames())
        return self.frames.pop(0)

    async def until_closed(self) -> list[Frame]:
        """Every frame until the server closes the connection."""
        while True:
            try:
                data = await self.stream.receive_some(65536)
            except trio.BrokenResourceError:  # a reset after the server closed
                data = b""
            if not data:
                break
            self.decoder.feed(data)
            self.frames.extend(self.decoder.frames())
        frames, self.frames = self.frames, []
        return frames

    async def aclose(self) -> None:
        await self.stream.aclose()


def to_cloud(message: Message, frame_id: int) -> bytes:
    return encode_frame(message, frame_id, recipient=CLOUD)


async def subscribed(port: int, phone_id: str = PHONE_B) -> None:
    """A well-behaved client subscribes and gets its acknowledgement."""
    raw = await Raw.connect(port, hello=phone_address(phone_id))
    await raw.send(to_cloud(Subscribe(phone_id), 2))
    frame = await raw.frame()
    assert (frame.sender, frame.message) == (CLOUD, SubscribeAck(phone_id))
    await raw.aclose()


def codes(frames: list[Frame]) -> list[str]:
    out = []
    for frame in frames:
        assert isinstance(frame.message, ErrorReply) and frame.sender is None
        out.append(str(frame.message.code))
    return out


# --------------------------------------------------------------------------- the flow


@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
async def test_the_purchase_flow_completes_between_real_actors(tls: bool) -> None:
    """A cloud server; a POS and two phones in a client process. R1: phone A asks. R2:
    phone B never asks, so the cloud pushes after the timeout. R3: bound to A's id but B
    paid and asks: B gets a response, A the dual-send."""
    server_tls, client_tls = tls_options(tls)
    item = builtin_catalog().to_item(builtin_catalog().products[0], quantity=1)
    checkouts = [
        Checkout(0.0, "R1", PHONE_A, phone_address(PHONE_A), (item,)),
        Checkout(0.0, "R2", PHONE_B, phone_address(PHONE_B), (item,)),
        Checkout(0.3, "R3", PHONE_A, phone_address(PHONE_B), (item,)),
    ]
    phone_a = PhoneMachine(PHONE_A)
    phone_b = PhoneMachine(PHONE_B, ask_plan={ReceiptKey("shop-01", "R2"): None})
    shown: list[TraceEvent] = []
    all_shown = trio.Event()
    senders_at_cloud: set[str] = set()

    def on_phone(event: TraceEvent) -> None:
        note = event.note
        if event.kind is EventKind.NOTE and note is not None and note.kind == PhoneNote.SHOWN:
            shown.append(event)
            if len(shown) == 4:
                all_shown.set()

    def on_cloud(event: TraceEvent) -> None:
        if event.kind is EventKind.RECEIVE:
            senders_at_cloud.add(event.sender)

    with trio.fail_after(20):
        async with (
            cloud_server(push_timeout=0.5, ssl_context=server_tls, observer=on_cloud) as (
                server,
                _,
            ),
            connect_tcp(HOST, server.port, ssl_context=client_tls) as client,
            trio.open_nursery() as nursery,
        ):
            endpoints = [client.open_endpoint(phone_address(p)) for p in (PHONE_A, PHONE_B)]
            for endpoint in endpoints:
                await endpoint.wait_connected()  # the phones listen before the POS sells
            nursery.start_soon(Actor(phone_a, endpoints[0], observer=on_phone).run)
            nursery.start_soon(Actor(phone_b, endpoints[1], observer=on_phone).run)
            pos = PosMachine("shop-01", "pos-1", checkouts)
            nursery.start_soon(Actor(pos, client.open_endpoint(POS)).run)
            await all_shown.wait()
            nursery.cancel_scope.cancel()
    assert {(d.receipt_id, d.kind) for d in phone_a.deliveries} == {
        ("R1", "response"),
        ("R3", str(PushReason.DUAL_SEND)),
    }
    assert {(d.receipt_id, d.kind) for d in phone_b.deliveries} == {
        ("R2", str(PushReason.TIMEOUT)),
        ("R3", "response"),
    }
    assert all(d.products for d in phone_a.deliveries + phone_b.deliveries)
    assert senders_at_cloud == {POS, phone_address(PHONE_A), phone_address(PHONE_B)}
    assert server.stats.relayed >= 3  # the receipt notices and their acks, POS <-> phones
    assert server.stats.refused == Counter() and client.stats.refused == Counter()
    assert server.stats.connected == 3 and client.stats.connected == 3


# --------------------------------------------------------------------------- identity


async def test_the_sender_is_the_authenticated_address_never_a_frame_field() -> None:
    def authenticate(hello: Hello) -> str:
        if hello.credential != "token-of-A":
            raise AuthenticationError("unknown device token")
        return phone_address(PHONE_A)  # the credential decides, whatever was claimed

    with trio.fail_after(10):
        async with serve_tcp(HOST, 0, authenticate=authenticate) as server:
            cloud = server.open_endpoint(CLOUD)
            raw = Raw(await trio.open_tcp_stream(HOST, server.port))
            await raw.send(
                encode_frame(Hello(WIRE_VERSION, phone_address(PHONE_B), "token-of-A"), 1)
            )
            assert (await raw.frame()).message == HelloAck(WIRE_VERSION, phone_address(PHONE_A))
            await raw.send(encode_frame(Subscribe(PHONE_B), 2, recipient=CLOUD, sender="cloud"))
            refusal = await raw.frame()
            assert codes([refusal]) == ["malformed-frame"] and refusal.refers_to == 2
            await raw.send(to_cloud(Subscribe(PHONE_B), 3))
            envelope = await cloud.receive()
            assert (envelope.sender, envelope.recipient) == (phone_address(PHONE_A), CLOUD)
            assert envelope.message == Subscribe(PHONE_B)  # the body is the cloud's to judge
            await raw.aclose()


async def test_a_refused_hello_is_final_and_others_are_still_served() -> None:
    async def authenticate(hello: Hello) -> str:  # a coroutine, as a database lookup would be
        await trio.lowlevel.checkpoint()
        if hello.credential != "good":
            raise AuthenticationError("unknown device token")
        return hello.address

    with trio.fail_after(10):
        async with (
            cloud_server(authenticate=authenticate) as (server, _),
            connect_tcp(HOST, server.port, credentials={phone_address(PHONE_B): "good"}) as client,
        ):
            bad = client.open_endpoint(phone_address(PHONE_A), credential="stolen")
            with pytest.raises(HelloRefused, match="unauthorized: unknown device token") as caught:
                await bad.wait_connected()
            assert caught.value.code == "unauthorized"
            with pytest.raises(HelloRefused):
                bad.send(CLOUD, Subscribe(PHONE_A))
            with pytest.raises(HelloRefused):
                await bad.receive()
            good = client.open_endpoint(phone_address(PHONE_B))
            await good.wait_connected()
            good.send(CLOUD, Subscribe(PHONE_B))
            envelope = await good.receive()
            assert (envelope.sender, envelope.message) == (CLOUD, SubscribeAck(PHONE_B))
    assert server.stats.hellos_refused == 1 and server.stats.refused["unauthorized"] == 1
    assert client.stats.hellos_refused == 1 and server.stats.connected == 1


async def test_a_hello_of_another_version_is_refused_naming_both() -> None:
    with trio.fail_after(10):
        async with cloud_server() as (server, _):
            raw = await Raw.connect(server.port)
            hello = json.dumps({"v": 4, "id": 1, "type": "hello", "body": {"anything": 1}})
            await raw.send(struct.pack(">I", len(hello)) + hello.encode())
            (refusal,) = await raw.until_closed()
            assert isinstance(refusal.message, ErrorReply)
            assert refusal.message.code is ErrorCode.UNSUPPORTED_VERSION
            assert "speaks 4" in refusal.message.detail and "speaks 3" in refusal.message.detail
            await subscribed(server.port)


async def test_an_address_served_by_the_server_itself_cannot_be_claimed() -> None:
    with trio.fail_after(10):
        async with cloud_server() as (server, _):
            raw = await Raw.connect(server.port)
            await raw.send(encode_frame(Hello(WIRE_VERSION, CLOUD), 1))
            assert codes(await raw.until_closed()) == ["unauthorized"]


async def test_a_second_connection_of_an_address_replaces_the_first() -> None:
    with trio.fail_after(10):
        async with cloud_server() as (server, _):
            first = await Raw.connect(server.port, hello=phone_address(PHONE_A))
            second = await Raw.connect(server.port, hello=phone_address(PHONE_A))
            assert await first.until_closed() == []
            await second.send(to_cloud(Subscribe(PHONE_A), 2))
            assert (await second.frame()).message == SubscribeAck(PHONE_A)
            assert server.stats.replaced == 1 and server.connected == {phone_address(PHONE_A)}


# --------------------------------------------------------------------------- routing


async def test_clients_reach_each_other_through_the_server_as_policy_allows() -> None:
    def may_relay(sender: str, recipient: str, message: Message) -> bool:
        return sender.startswith("pos:")  # only checkouts may write to phones

    with trio.fail_after(10):
        async with cloud_server(may_relay=may_relay) as (server, _):
            phone = await Raw.connect(server.port, hello=phone_address(PHONE_A))
            pos = await Raw.connect(server.port, hello=POS)
            await pos.send(
                encode_frame(UploadAck("R1", "shop-a"), 2, recipient=phone_address(PHONE_A))
            )
            relayed = await phone.frame()
            assert (relayed.sender, relayed.message) == (POS, UploadAck("R1", "shop-a"))
            await phone.send(encode_frame(UploadAck("R1", "shop-a"), 2, recipient=POS))
            refusal = await phone.frame()
            assert codes([refusal]) == ["unauthorized"] and refusal.refers_to == 2
            absent = "phone:+8613800000999"
            await pos.send(encode_frame(UploadAck("R1", "shop-a"), 3, recipient=absent))
            while server.stats.unroutable < 1:  # allowed, nobody there: dropped
                await trio.sleep(0.01)
            # refused as when the recipient is there: no oracle of who is online
            await phone.send(encode_frame(UploadAck("R1", "shop-a"), 3, recipient=absent))
            refusal = await phone.frame()
            assert codes([refusal]) == ["unauthorized"] and refusal.refers_to == 3
            await phone.send(to_cloud(Subscribe(PHONE_A), 4))
            assert (await phone.frame()).message == SubscribeAck(PHONE_A)
            assert server.stats.relayed == 1 and server.stats.unroutable == 1
            cloud_side = server.open_endpoint("local-2")
            with pytest.raises(UnknownAddress, match="no connection"):
                cloud_side.send("phone:+8613800000999", UploadAck("R1", "shop-a"))


class _Recorder:
    """A machine that records what it is handed, and in which task."""

    def __init__(self) -> None:
        self.handled: list[tuple[Message, str]] = []
        self.arrived = trio.Event()

    def start(self, now: float) -> Effects:
        return Effects()

    def handle(self, message: Message, sender: str, now: float) -> Effects:
        self.handled.append((message, trio.lowlevel.current_task().name))
        if len(self.handled) == 3:
            self.arrived.set()
        return Effects()

    def timer_fired(self, key: object, now: float) -> Effects:
        return Effects()


async def test_a_client_actor_is_handed_its_messages_directly_in_order() -> None:
    """Over a TCP client connection the actor skips its mailbox: the machine steps in the
    connection's read task, after what had queued before the actor started, in order."""
    with trio.fail_after(10):
        async with cloud_server() as (server, _), connect_tcp(HOST, server.port) as client:
            endpoint = client.open_endpoint(phone_address(PHONE_A))
            assert isinstance(endpoint, DirectEndpoint)
            await endpoint.wait_connected()
            cloud_side = server.open_endpoint("local-2")
            for n in (1, 2):
                cloud_side.send(phone_address(PHONE_A), UploadAck(f"R{n}", "shop-a"))
            while len(endpoint.mailbox.queue) < 2:
                await trio.sleep(0.01)
            recorder = _Recorder()
            async with trio.open_nursery() as nursery:
                await nursery.start(Actor(recorder, endpoint).run)
                cloud_side.send(phone_address(PHONE_A), UploadAck("R3", "shop-a"))
                await recorder.arrived.wait()
                nursery.cancel_scope.cancel()
    assert [message for message, _ in recorder.handled] == [
        UploadAck(f"R{n}", "shop-a") for n in (1, 2, 3)
    ]
    assert recorder.handled[2][1].endswith("TcpClientEndpoint.run")  # the read task
    assert not endpoint.mailbox.queue


# --------------------------------------------------------------------------- bad input


BAD_INPUTS: list[tuple[str, bool, bytes, list[str], bool]] = [
    # (name, hello first, bytes, refusal codes, connection closed)
    ("garbage-before-hello", False, b"\x00\x00\x00\x03abc", ["malformed-frame"], True),
    ("message-before-hello", False, to_cloud(Subscribe(PHONE_A), 1), ["hello-required"], True),
    ("http-request", False, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", ["frame-too-large"], True),
    ("oversized-length", True, struct.pack(">I", 2**31) + b"x" * 100, ["frame-too-large"], True),
    ("truncated", True, to_cloud(Subscribe(PHONE_A), 2)[:-2], ["malformed-frame"], True),
    ("not-json", True, frame_of(b"{{{"), ["malformed-frame"], False),
    ("not-utf8", True, frame_of(b"\xff\xfe"), ["malformed-frame"], False),
    (
        "wrong-version",
        True,
        frame_of(b'{"v":1,"id":2,"to":"cloud","type":"push-ack","body":{}}'),
        ["unsupported-version"],
        False,
    ),
    (
        "invalid-body",
        True,
        to_cloud(Subscribe(PHONE_A), 2).replace(PHONE_A.encode(), b"+0000000000000"),
        ["invalid-message"],
        False,
    ),
    (
        "unknown-type",
        True,
        frame_of(b'{"v":3,"id":2,"to":"cloud","type":"pull","body":{}}'),
        ["malformed-frame"],
        False,
    ),
    (
        "second-hello",
        True,
        encode_frame(Hello(WIRE_VERSION, "x"), 2),
        ["unexpected-message"],
        False,
    ),
    ("id-going-back", True, to_cloud(Subscribe(PHONE_A), 1), ["malformed-frame"], False),
    (
        "from-field",
        True,
        encode_frame(Subscribe(PHONE_A), 2, sender="x"),
        ["malformed-frame"],
        False,
    ),
    ("no-recipient", True, encode_frame(Subscribe(PHONE_A), 2), ["malformed-frame"], False),
]


@pytest.mark.parametrize(
    ("hello", "data", "expected", "closes"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
async def test_bad_input_gets_its_documented_refusal_and_the_server_goes_on(
    hello: bool, data: bytes, expected: list[str], closes: bool
) -> None:
    with trio.fail_after(10):
        async with cloud_server() as (server, _):
            raw = await Raw.connect(server.port, hello=phone_address(PHONE_A) if hello else None)
            await raw.send(data)
            if closes:
                with contextlib.suppress(trio.BrokenResourceError):
                    await raw.stream.send_eof()  # the end of input (truncates a partial frame)
                assert codes(await raw.until_closed()) == expected
            else:
                assert codes([await raw.frame()]) == expected
                await raw.send(to_cloud(Subscribe(PHONE_A), 10))  # still open, still served
                assert (await raw.frame()).message == SubscribeAck(PHONE_A)
                await raw.aclose()
            await subscribed(server.port)  # and everyone else is served
            assert sum(server.stats.refused.values()) == len(expected)


async def test_a_plain_client_on_a_tls_server_costs_only_its_connection() -> None:
    server_tls, client_tls = certificates()
    with trio.fail_after(10):
        async with cloud_server(ssl_context=server_tls) as (server, _):
            raw = await Raw.connect(server.port)
            await raw.send(to_cloud(Subscribe(PHONE_A), 1))  # not a TLS handshake
            assert await raw.until_closed() == []
            async with connect_tcp(HOST, server.port, ssl_context=client_tls) as client:
                endpoint = client.open_endpoint(phone_address(PHONE_B))
                endpoint.send(CLOUD, Subscribe(PHONE_B))  # queued until connected
                assert (await endpoint.receive()).message == SubscribeAck(PHONE_B)
            assert server.stats.dropped >= 1


async def test_a_client_that_does_not_trust_the_certificate_never_connects() -> None:
    server_tls, _ = certificates()
    stranger = ssl.create_default_context()
    trustme.CA().configure_trust(stranger)
    with trio.fail_after(10):
        async with (
            cloud_server(ssl_context=server_tls) as (server, _),
            connect_tcp(HOST, server.port, ssl_context=stranger, backoff=QUICK_BACKOFF) as client,
        ):
            endpoint = client.open_endpoint(phone_address(PHONE_A))
            with pytest.raises(TlsVerificationFailed):  # at once: retrying cannot fix it
                await endpoint.wait_connected()
            assert not endpoint.connected
            assert endpoint.last_error is not None and "CERTIFICATE" in endpoint.last_error.upper()
            assert endpoint.last_failure is ConnectFailure.UNVERIFIED


# --------------------------------------------------------------------------- slow and stalled


async def test_a_client_that_never_says_hello_times_out() -> None:
    with trio.fail_after(10):
        async with cloud_server(limits=FAST) as (server, _):
            raw = await Raw.connect(server.port)
            started = trio.current_time()
            assert codes(await raw.until_closed()) == ["timeout"]
            assert 0.4 < trio.current_time() - started < 5
            assert server.stats.timeouts == 1


async def test_a_client_stalling_inside_a_frame_times_out() -> None:
    with trio.fail_after(10):
        async with cloud_server(limits=FAST) as (server, _):
            raw = await Raw.connect(server.port, hello=phone_address(PHONE_A))
            frame = to_cloud(Subscribe(PHONE_A), 2)
            await raw.send(frame[:10])
            assert codes(await raw.until_closed()) == ["timeout"]
            await subscribed(server.port)


async def test_a_slow_but_steady_client_is_not_timed_out() -> None:
    limits = TcpLimits(frame_timeout=0.2)
    with trio.fail_after(10):
        async with cloud_server(limits=limits) as (server, _):
            raw = await Raw.connect(server.port, hello=phone_address(PHONE_A))
            for n in range(2, 5):
                await trio.sleep(0.25)  # idle between frames longer than the frame timeout
                frame = to_cloud(Subscribe(PHONE_A), n)
                await raw.send(frame[:5])  # each frame in two parts, within the timeout
                await trio.sleep(0.05)
                await raw.send(frame[5:])
                assert (await raw.frame()).message == SubscribeAck(PHONE_A)
            assert server.stats.timeouts == 0


async def test_a_client_that_does_not_read_is_disconnected_and_starves_no_one() -> None:
    limits = TcpLimits(write_timeout=0.5, max_send_queue_bytes=64 * 1024)
    products = tuple(  # big pushes: 100 products, ~25 kB a frame
        AssociatedProduct(f"SKU-{n}", "x" * 200, "c", "b", "", 1.0, Reason.COMPLEMENT, 1.0)
        for n in range(100)
    )
    push = AssociationPush("R1", "shop-01", PHONE_A, PushReason.TIMEOUT, products)
    with trio.fail_after(20):
        async with serve_tcp(HOST, 0, limits=limits) as server:
            cloud = server.open_endpoint(CLOUD)
            sock = trio.socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            await sock.connect((HOST, server.port))
            stalled = Raw(trio.SocketStream(sock))
            await stalled.send(encode_frame(Hello(WIRE_VERSION, phone_address(PHONE_A)), 1))
            assert (await stalled.frame()).message == HelloAck(WIRE_VERSION, phone_address(PHONE_A))
            sent = 0
            with pytest.raises(TransportError):  # it stops reading: soon nothing can be queued
                for _ in range(100_000):
                    cloud.send(phone_address(PHONE_A), push)
                    sent += 1
                    await trio.sleep(0)  # let the writer run
            assert server.stats.stalled >= 1 and sent > 3
            good = await Raw.connect(server.port, hello=phone_address(PHONE_B))
            await good.send(to_cloud(Subscribe(PHONE_B), 2))
            envelope = await cloud.receive()
            assert envelope.sender == phone_address(PHONE_B)
            cloud.send(envelope.sender, SubscribeAck(PHONE_B))
            assert (await good.frame()).message == SubscribeAck(PHONE_B)
            await stalled.aclose()


# --------------------------------------------------------------------------- client life


async def test_the_client_reconnects_and_delivers_what_waited() -> None:
    # The second server takes the first's port: one outside the ephemeral range, which a
    # reconnecting client's self-connect (or any outgoing connection) cannot take meanwhile.
    first = TcpServerTransport(HOST, restart_port(HOST))
    cloud = first.open_endpoint(CLOUD)
    first_scope = trio.CancelScope()

    async def run_first(task_status: trio.TaskStatus[None]) -> None:
        with first_scope:
            await first.serve(task_status=task_status)

    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            await nursery.start(run_first)
            port = first.port
            async with connect_tcp(HOST, port, backoff=QUICK_BACKOFF) as client:
                endpoint = client.open_endpoint(phone_address(PHONE_A))
                await endpoint.wait_connected()
                endpoint.send(CLOUD, Subscribe(PHONE_A))
                assert (await cloud.receive()).message == Subscribe(PHONE_A)
                first_scope.cancel()  # the server goes away
                while endpoint.connected:
                    await trio.sleep(0.01)
                endpoint.send(CLOUD, Subscribe(PHONE_B))  # waits for the next connection
                await reconnected(endpoint, port)
    assert client.stats.connected == 2


async def reconnected(endpoint: TcpClientEndpoint, port: int) -> None:
    """A new server on the same port gets what waited, and answers."""
    async with serve_tcp(HOST, port) as second:
        cloud = second.open_endpoint(CLOUD)
        envelope = await cloud.receive()
        assert (envelope.sender, envelope.message) == (phone_address(PHONE_A), Subscribe(PHONE_B))
        cloud.send(envelope.sender, SubscribeAck(PHONE_B))
        assert (await endpoint.receive()).message == SubscribeAck(PHONE_B)


def reset(stream: trio.SocketStream) -> None:
    """Make closing ``stream`` a TCP reset (RST), as a crashed peer's kernel would."""
    stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def test_a_reset_by_the_server_makes_the_client_reconnect() -> None:
    connections = 0
    got = trio.Event()

    async def handler(stream: trio.SocketStream) -> None:
        nonlocal connections
        connections += 1
        raw = Raw(stream)
        hello = (await raw.frame()).message
        assert isinstance(hello, Hello)
        await stream.send_all(encode_frame(HelloAck(WIRE_VERSION, hello.address), 1))
        if connections == 1:
            reset(stream)
            await stream.aclose()
            return
        frame = await raw.frame()
        assert frame.message == Subscribe(PHONE_A)
        await stream.send_all(encode_frame(SubscribeAck(PHONE_A), 2, sender=CLOUD))
        got.set()
        await trio.sleep_forever()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(partial(trio.serve_tcp, handler, 0, host=HOST))
            port = listeners[0].socket.getsockname()[1]
            async with connect_tcp(HOST, port, backoff=QUICK_BACKOFF) as client:
                endpoint = client.open_endpoint(phone_address(PHONE_A))
                endpoint.send(CLOUD, Subscribe(PHONE_A))  # lost with the first connection...
                while client.stats.connected < 2:
                    await trio.sleep(0.01)
                endpoint.send(CLOUD, Subscribe(PHONE_A))  # ...sent again, as an outbox would
                assert (await endpoint.receive()).message == SubscribeAck(PHONE_A)
                await got.wait()
            nursery.cancel_scope.cancel()
    # the reset dropped the first connection (the second may be dropped too as the
    # server shuts down first: a race that does not matter here)
    assert client.stats.dropped >= 1 and client.stats.connected == 2


async def test_a_reset_by_a_client_costs_only_its_connection() -> None:
    with trio.fail_after(10):
        async with cloud_server() as (server, _):
            raw = await Raw.connect(server.port, hello=phone_address(PHONE_A))
            await raw.send(to_cloud(Subscribe(PHONE_A), 2)[:9])
            reset(raw.stream)
            await raw.aclose()
            while server.connections:
                await trio.sleep(0.01)
            await subscribed(server.port)
            assert server.stats.dropped == 1


async def test_a_server_that_never_answers_the_hello_is_retried() -> None:
    async def silent(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    limits = TcpLimits(hello_timeout=0.1)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(partial(trio.serve_tcp, silent, 0, host=HOST))
            port = listeners[0].socket.getsockname()[1]
            async with connect_tcp(HOST, port, limits=limits, backoff=QUICK_BACKOFF) as client:
                endpoint = client.open_endpoint(phone_address(PHONE_A))
                while client.stats.timeouts < 2:  # it keeps trying
                    await trio.sleep(0.01)
                assert endpoint.last_error == "no hello-ack within 0.1 s"
                assert endpoint.last_failure is ConnectFailure.NO_HELLO_ACK
                assert not endpoint.connected
            nursery.cancel_scope.cancel()


async def test_sends_wait_in_a_bounded_queue_while_disconnected() -> None:
    with trio.fail_after(10):
        # a port nobody listens on, outside the ephemeral range: the retrying client's
        # connect cannot be given it as its own port (a self-connect, "connected")
        port = restart_port(HOST)
        limits = TcpLimits(max_pending=2)
        async with connect_tcp(HOST, port, limits=limits, backoff=QUICK_BACKOFF) as client:
            endpoint = client.open_endpoint(phone_address(PHONE_A))
            endpoint.send(CLOUD, Subscribe(PHONE_A))
            endpoint.send(CLOUD, Subscribe(PHONE_A))
            with pytest.raises(TransportError, match="2 messages already wait"):
                endpoint.send(CLOUD, Subscribe(PHONE_A))
            while endpoint.last_error is None:
                await trio.sleep(0.01)
            assert "cannot connect" in endpoint.last_error
            assert endpoint.last_failure is ConnectFailure.UNREACHABLE
            endpoint.close()
            with pytest.raises(TransportError, match="closed"):
                endpoint.send(CLOUD, Subscribe(PHONE_A))


async def test_misuse_and_os_errors_are_transport_errors() -> None:
    client = TcpClientTransport(HOST, 1)
    with pytest.raises(TransportError, match="not running"):
        client.open_endpoint(phone_address(PHONE_A))
    with pytest.raises(TransportError, match="must be > 0"):
        TcpLimits(hello_timeout=0)
    with trio.fail_after(10):
        async with serve_tcp(HOST, 0) as server:
            with pytest.raises(TransportError, match="cannot listen"):
                async with serve_tcp(HOST, server.port):
                    pass
            server.open_endpoint(CLOUD)
            with pytest.raises(TransportError, match="already attached"):
                server.open_endpoint(CLOUD)
            async with connect_tcp(HOST, server.port) as client2:
                with pytest.raises(TransportError, match="malformed address"):
                    client2.open_endpoint("not an address")
                with pytest.raises(TransportError, match="cannot say hello"):
                    client2.open_endpoint(phone_address(PHONE_A), credential="x" * 2000)


async def test_leaving_or_cancelling_closes_everything_and_errors_come_out_unwrapped() -> None:
    with trio.fail_after(10):
        with pytest.raises(ValueError, match="boom"):
            async with serve_tcp(HOST, 0) as server:
                port = server.port
                async with connect_tcp(HOST, port) as client:
                    await client.open_endpoint(phone_address(PHONE_A)).wait_connected()
                    raise ValueError("boom")
        with pytest.raises(OSError):
            await trio.open_tcp_stream(HOST, port)  # nothing listens any more
        with trio.CancelScope() as scope:
            async with serve_tcp(HOST, 0) as server, connect_tcp(HOST, server.port) as client:
                await client.open_endpoint(phone_address(PHONE_A)).wait_connected()
                scope.cancel()
                await trio.sleep_forever()
        assert scope.cancelled_caught


# --------------------------------------------------------------------------- fuzzing


@given(
    picks=st.lists(st.tuples(st.sampled_from(VALID_FRAMES), st.integers(0, 2**32)), max_size=6),
    noise=st.binary(max_size=64),
    hello_first=st.booleans(),
)
async def test_fuzzing_a_live_connection_gets_documented_answers_only(
    picks: list[tuple[bytes, int]], noise: bytes, hello_first: bool
) -> None:
    rng = random.Random(len(picks))
    stream = b"".join(mutate(frame, random.Random(seed)) for frame, seed in picks) + noise
    # The hello's deadline longer than FAST's 0.5 s: each connection ends at its EOF, and
    # under a loaded CI the well-behaved client's hello came 0.5 s after its connect.
    limits = attrs.evolve(FAST, hello_timeout=5.0)
    with trio.fail_after(10):
        async with cloud_server(limits=limits) as (server, _):
            raw = await Raw.connect(
                server.port, hello=phone_address(PHONE_A) if hello_first else None
            )
            for chunk in chop(stream, rng):
                try:
                    await raw.send(chunk)
                except trio.BrokenResourceError:
                    break  # the server closed on a fatal refusal
            with contextlib.suppress(trio.BrokenResourceError):
                await raw.stream.send_eof()  # the end of input: the server must finish
            for frame in await raw.until_closed():  # the server ends every connection
                message = frame.message
                if frame.sender is None:
                    assert isinstance(message, ErrorReply | HelloAck)
                    if isinstance(message, ErrorReply):
                        assert message.code in TRANSPORT_REFUSALS
                else:  # a mutation that stayed valid reached the cloud, which answered
                    assert frame.sender == CLOUD
            await subscribed(server.port)


# --------------------------------------------------------------------------- load


async def test_500_concurrent_connections_with_some_stalled_every_live_one_served() -> None:
    live = 492
    limits = TcpLimits(hello_timeout=2.0, frame_timeout=1.0)
    served = 0
    with trio.fail_after(45):
        async with (
            cloud_server(limits=limits) as (server, _),
            connect_tcp(HOST, server.port) as client,
        ):
            stalled = [await Raw.connect(server.port) for _ in range(3)]  # never say hello
            for n in range(3):  # say hello, then stop inside a frame
                raw = await Raw.connect(server.port, hello=phone_address(f"+86139000000{n:02d}"))
                await raw.send(to_cloud(Subscribe(PHONE_A), 2)[:7])
                stalled.append(raw)
            for n in range(2):  # say hello, then never read again
                stalled.append(
                    await Raw.connect(server.port, hello=phone_address(f"+86137000000{n:02d}"))
                )

            async def one_phone(n: int) -> None:
                nonlocal served
                phone_id = f"+861380{n:07d}"
                endpoint = client.open_endpoint(phone_address(phone_id))
                endpoint.send(CLOUD, Subscribe(phone_id))
                envelope = await endpoint.receive()
                assert envelope.message == SubscribeAck(phone_id)
                served += 1

            async with trio.open_nursery() as nursery:
                for n in range(live):
                    nursery.start_soon(one_phone, n)
            assert served == live
            assert server.connections >= live  # every live client is still connected
            for raw in stalled[:6]:
                assert codes(await raw.until_closed()) == ["timeout"]
            for raw in stalled:
                await raw.aclose()
    assert server.stats.timeouts == 6 and server.stats.accepted == live + 8


# --------------------------------------------------------------------------- Ctrl-C

SERVING_PROCESS = """
import signal, sys, trio
sys.path.insert(0, {root!r})
from actors import serve_tcp

# A process started with SIGINT ignored (bash does that to a background job, `pytest &`)
# keeps it ignored, as POSIX means, and Python and trio respect it: Ctrl-C would never
# arrive. This process stands for one run in a terminal, where Ctrl-C arrives.
signal.signal(signal.SIGINT, signal.default_int_handler)

async def main() -> None:
    async with serve_tcp("127.0.0.1", 0) as server:
        print(server.port, flush=True)
        await trio.sleep_forever()

try:
    trio.run(main)
except KeyboardInterrupt:
    print("interrupted cleanly", flush=True)
"""


# Starts a program with SIGINT as given: SIG_DFL as a terminal starts it, SIG_IGN as a
# non-interactive shell starts `program &`. Both run, whatever pytest itself inherited.
STARTING_WITH_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.{}); "
    "os.execv(sys.executable, sys.argv[1:])"
)


@pytest.mark.parametrize("inherited", ["SIG_DFL", "SIG_IGN"], ids=["terminal", "background"])
async def test_ctrl_c_stops_a_serving_process_cleanly(inherited: str) -> None:
    root = str(Path(__file__).resolve().parents[2])
    serving = [sys.executable, "-c", SERVING_PROCESS.format(root=root)]
    command = [sys.executable, "-c", STARTING_WITH_SIGINT.format(inherited), *serving]
    with trio.fail_after(30):
        process = await trio.lowlevel.open_process(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stderr is not None
        output = b""
        while b"\n" not in output:
            chunk = await process.stdout.receive_some()
            assert chunk, "the serving process ended early"
            output += chunk
        port = int(output.split(b"\n")[0])
        client = await Raw.connect(port, hello=phone_address(PHONE_A))  # one open connection
        process.send_signal(signal.SIGINT)
        assert await client.until_closed() == []  # its connection closes
        rest = b""
        while chunk := await process.stdout.receive_some():
            rest += chunk
        errors = b""
        while chunk := await process.stderr.receive_some():
            errors += chunk
        assert await process.wait() == 0, errors.decode(errors="replace")
        assert b"interrupted cleanly" in rest and errors == b""
