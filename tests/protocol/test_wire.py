"""Framing on a byte stream (protocol/_wire/: frames, envelopes, connections): round trips,
every refusal, fuzzing.

The long fuzz profile: ``ASSOCSIM_FUZZ_FRAMES=1000000 pytest tests/protocol/test_wire.py -k
mutation_fuzz -s`` pushes that many mutated frames through the server's connection state
machine (default 3,000 per run) and prints the figures.
"""

from __future__ import annotations

import json
import math
import os
import random
import struct
import time
from collections import Counter
from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import (
    MAX_ITEMS_PER_PURCHASE,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_TIME,
    MESSAGE_TYPES,
    WIRE_VERSION,
    AssociationRequest,
    ErrorCode,
    ErrorReply,
    Item,
    LocalProtocolError,
    Message,
    PurchaseUpload,
    RemoteProtocolError,
    Subscribe,
    SubscribeAck,
    UploadAck,
)
from protocol.lowlevel import (
    CONTROL_TYPES,
    MAX_CREDENTIAL_LENGTH,
    MAX_DETAIL_LENGTH,
    MAX_ERRORS_PER_CONNECTION,
    MAX_FRAME_BYTES,
    MAX_FRAME_ID,
    ClientConnection,
    Connected,
    ConnectionClosed,
    ConnectionState,
    Frame,
    FrameDecoder,
    FrameRefused,
    FrameTooLarge,
    Hello,
    HelloAck,
    HelloReceived,
    HelloRequired,
    InvalidBody,
    MalformedFrame,
    MessageReceived,
    PeerRefused,
    ServerConnection,
    TruncatedFrame,
    UnexpectedFrame,
    UnsupportedVersion,
    WireError,
    decode_payload,
    encode_envelope,
    encode_frame,
    is_address,
)
from tests.protocol.test_wire_format_doc import documented_error_codes
from tests.strategies import messages

PHONE = "phone:+8613800000001"
REQUEST = AssociationRequest(1, "R0000001", "shop-01", "+8613800000001")

# The error codes a server may answer bad framing with (docs/wire-format.md).
TRANSPORT_REFUSALS = frozenset(
    {
        ErrorCode.MALFORMED_FRAME,
        ErrorCode.FRAME_TOO_LARGE,
        ErrorCode.UNSUPPORTED_VERSION,
        ErrorCode.HELLO_REQUIRED,
        ErrorCode.INVALID_MESSAGE,
        ErrorCode.UNEXPECTED_MESSAGE,
        ErrorCode.UNAUTHORIZED,
        ErrorCode.TIMEOUT,
    }
)


def frame_of(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def payload_of(envelope: object) -> bytes:
    return json.dumps(envelope).encode()


def hello_frame(frame_id: int = 1, version: int = WIRE_VERSION) -> bytes:
    return encode_frame(Hello(version, PHONE, "token"), frame_id)


def decode_all(data: bytes) -> list[Frame]:
    decoder = FrameDecoder()
    decoder.feed(data)
    return list(decoder.frames())


def open_server() -> ServerConnection:
    """A server connection past its hello, accepted as PHONE."""
    server = ServerConnection()
    server.receive_data(hello_frame())
    assert server.events() == [HelloReceived(Hello(WIRE_VERSION, PHONE, "token"))]
    server.accept(PHONE)
    assert [f.message for f in decode_all(server.data_to_send())] == [HelloAck(WIRE_VERSION, PHONE)]
    return server


def refusals(server: ServerConnection) -> list[tuple[ErrorCode, int | None]]:
    """The refusals the server queued: (code, the refused frame's id)."""
    out = []
    for frame in decode_all(server.data_to_send()):
        assert isinstance(frame.message, ErrorReply)
        assert frame.sender is None
        out.append((frame.message.code, frame.refers_to))
    return out


# --------------------------------------------------------------------------- round trips


@given(message=messages(), frame_id=st.integers(1, MAX_FRAME_ID), cuts=st.lists(st.integers(0)))
def test_every_message_round_trips_through_a_frame_cut_anywhere(
    message: Message, frame_id: int, cuts: list[int]
) -> None:
    data = encode_frame(message, frame_id, recipient="cloud")
    decoder = FrameDecoder()
    got: list[Frame] = []
    start = 0
    for cut in [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]:
        decoder.feed(data[start:cut])
        start = cut
        got.extend(decoder.frames())
    assert got == [Frame(frame_id, message, None, "cloud", None)]
    assert decoder.buffered == 0 and not decoder.in_frame


def test_the_envelope_is_v_id_routing_type_and_body() -> None:
    data = encode_frame(UploadAck("R1", "shop-a"), 7, sender="cloud", refers_to=3)
    (size,) = struct.unpack(">I", data[:4])
    assert size == len(data) - 4
    assert json.loads(data[4:]) == {
        "v": 3,
        "id": 7,
        "from": "cloud",
        "re": 3,
        "type": "upload-ack",
        "body": {"receipt_id": "R1", "merchant_id": "shop-a"},
    }


def test_hello_and_hello_ack_round_trip_and_the_credential_is_never_shown() -> None:
    hello = Hello(WIRE_VERSION, PHONE, "s3cret")
    assert decode_all(encode_frame(hello, 1)) == [Frame(1, hello)]
    ack = HelloAck(WIRE_VERSION, PHONE)
    assert decode_all(encode_frame(ack, 1)) == [Frame(1, ack)]
    assert "s3cret" not in repr(hello)
    assert encode_envelope(hello, 1) == {
        "v": 3,
        "id": 1,
        "type": "hello",
        "body": {"version": 3, "address": PHONE, "credential": "s3cret"},
    }


def test_non_ascii_travels_as_utf8_and_a_lone_surrogate_as_an_escape() -> None:
    data = encode_frame(Subscribe("+8613800000001"), 1, recipient="cloud")
    assert data.isascii()
    reply = ErrorReply(ErrorCode.INVALID_MESSAGE, "商品 \ud800")  # only a JSON escape makes one
    framed = encode_frame(reply, 2)
    assert decode_all(framed)[0].message == reply


def test_the_largest_valid_message_fits_in_a_frame() -> None:
    worst = "\x01" * 200  # 200 control characters: 6 bytes each once escaped
    # The longest numbers within the bounds (17 significant digits each).
    price, at = math.nextafter(MAX_PRICE, 0.0), math.nextafter(MAX_TIME, 0.0)
    item = Item("S" * 64, worst, worst, worst, worst, MAX_QUANTITY, price)
    upload = PurchaseUpload(
        "R" * 64, "M" * 64, "P" * 64, "+861380000000123", (item,) * MAX_ITEMS_PER_PURCHASE, at
    )
    data = encode_frame(upload, MAX_FRAME_ID, recipient="x" * 200)
    assert 2_000_000 < len(data) - 4 <= MAX_FRAME_BYTES
    assert decode_all(data)[0].message == upload


def test_frames_are_numbered_and_addresses_checked_on_encoding() -> None:
    for bad in (0, -1, MAX_FRAME_ID + 1, True, 1.0):
        with pytest.raises(LocalProtocolError, match="frame id"):
            encode_frame(REQUEST, bad)  # type: ignore[arg-type]  # ill-typed on purpose
    with pytest.raises(LocalProtocolError, match="malformed address"):
        Hello(WIRE_VERSION, "phone 1")
    with pytest.raises(LocalProtocolError, match="1024"):
        Hello(WIRE_VERSION, PHONE, "x" * (MAX_CREDENTIAL_LENGTH + 1))
    assert is_address("pos:shop-01:pos-1") and is_address("cloud")
    assert not is_address("") and not is_address("x" * 201) and not is_address(":x")


# --------------------------------------------------------------------------- refusals


def decode_error(payload: bytes) -> WireError:
    with pytest.raises(WireError) as caught:
        decode_payload(payload)
    return caught.value


GOOD = {
    "v": 3,
    "id": 5,
    "to": "cloud",
    "type": "upload-ack",
    "body": {"receipt_id": "R1", "merchant_id": "shop-a"},
}


@pytest.mark.parametrize(
    ("payload", "error", "words"),
    [
        (b"\xff\xfe{}", MalformedFrame, "not UTF-8"),
        (b"", MalformedFrame, "not valid JSON"),
        (b"{", MalformedFrame, "not valid JSON"),
        (b"[1, 2]", MalformedFrame, "not an array"),
        (b'"v"', MalformedFrame, "not a string"),
        (b'{"v": NaN, "id": 1}', MalformedFrame, "NaN is not a JSON number"),
        (b'{"v": 3, "v": 3}', MalformedFrame, "duplicate key 'v'"),
        (b"[" * 100_000 + b"]" * 100_000, MalformedFrame, "not valid JSON"),
        (b'{"id": 1, "v": 1' + b"0" * 5000 + b"}", MalformedFrame, "not valid JSON"),
        (payload_of({**GOOD, "v": "3"}), MalformedFrame, "'v' must be"),
        (payload_of({**GOOD, "v": True}), MalformedFrame, "'v' must be"),
        (payload_of({k: v for k, v in GOOD.items() if k != "v"}), MalformedFrame, "'v' must"),
        (payload_of({**GOOD, "v": 4}), UnsupportedVersion, "speaks 4, this side speaks 3"),
        (payload_of({**GOOD, "extra": 1}), MalformedFrame, "unknown envelope key(s) 'extra'"),
        (payload_of({**GOOD, "id": 0}), MalformedFrame, "'id' must be"),
        (payload_of({**GOOD, "id": "5"}), MalformedFrame, "'id' must be"),
        (payload_of({**GOOD, "id": 5.0}), MalformedFrame, "'id' must be"),
        (payload_of({**GOOD, "id": 2**53}), MalformedFrame, "'id' must be"),
        (payload_of({**GOOD, "to": "no spaces"}), MalformedFrame, "'to' must be an address"),
        (payload_of({**GOOD, "from": 7}), MalformedFrame, "'from' must be an address"),
        (payload_of({**GOOD, "to": ["cloud"]}), MalformedFrame, "'to' must be an address"),
        (payload_of({**GOOD, "re": -1}), MalformedFrame, "'re' must be a frame id"),
        (payload_of({**GOOD, "type": 7}), MalformedFrame, "'type' must be text"),
        (payload_of({**GOOD, "type": "upload"}), MalformedFrame, "unknown message type"),
        (payload_of({**GOOD, "body": []}), MalformedFrame, "'body' must be a JSON object"),
        (payload_of({**GOOD, "body": {}}), InvalidBody, "receipt_id"),
        (payload_of({**GOOD, "body": {"receipt_id": "R1", "x": 1}}), InvalidBody, "unknown key"),
        (
            payload_of({**GOOD, "type": "hello", "body": {"version": 3, "address": "a b"}}),
            InvalidBody,
            "malformed address",
        ),
    ],
)
def test_every_bad_payload_is_refused_with_its_typed_error(
    payload: bytes, error: type[WireError], words: str
) -> None:
    refused = decode_error(payload)
    assert type(refused) is error
    assert words in str(refused)
    assert isinstance(refused, RemoteProtocolError) and not refused.fatal
    reply = refused.reply()
    assert reply.code == error.code and len(reply.detail) <= MAX_DETAIL_LENGTH
    assert "\n" not in reply.detail


def test_a_refusal_names_the_frame_receipt_and_request_it_could_read() -> None:
    items = [{"sku": "X"}] * (MAX_ITEMS_PER_PURCHASE + 1)
    upload = {"receipt_id": "R9", "merchant_id": "m", "pos_id": "p", "phone_id": "+8613800000001"}
    refused = decode_error(
        payload_of({**GOOD, "type": "purchase-upload", "body": {**upload, "items": items}})
    )
    assert isinstance(refused, InvalidBody)
    assert (refused.frame_id, refused.receipt_id, refused.request_id) == (5, "R9", None)
    bad_request = {"request_id": 4, "receipt_id": "R2", "phone_id": "nope"}
    refused = decode_error(payload_of({**GOOD, "type": "association-request", "body": bad_request}))
    assert (refused.receipt_id, refused.request_id) == ("R2", 4)
    assert refused.reply() == ErrorReply(ErrorCode.INVALID_MESSAGE, refused.reply().detail, "R2", 4)


def test_an_oversized_length_is_refused_before_any_payload_arrives() -> None:
    decoder = FrameDecoder()
    decoder.feed(struct.pack(">I", MAX_FRAME_BYTES + 1))  # the 4 bytes of the prefix only
    with pytest.raises(FrameTooLarge, match=f"{MAX_FRAME_BYTES + 1} bytes") as caught:
        decoder.next_frame()
    assert caught.value.fatal and caught.value.code is ErrorCode.FRAME_TOO_LARGE
    decoder.feed(frame_of(payload_of(GOOD)))  # the stream is never trusted again
    with pytest.raises(FrameTooLarge):
        decoder.next_frame()
    small = FrameDecoder(max_frame_bytes=10)
    small.feed(frame_of(b"x" * 11))
    with pytest.raises(FrameTooLarge, match="more than the 10 allowed"):
        small.next_frame()


def test_a_stream_ending_inside_a_frame_is_truncated_and_fatal() -> None:
    for partial in (b"\x00\x00", frame_of(payload_of(GOOD))[:-1]):
        decoder = FrameDecoder()
        decoder.feed(partial)
        assert decoder.next_frame() is None and decoder.in_frame
        decoder.feed_eof()
        with pytest.raises(TruncatedFrame, match="ended inside") as caught:
            decoder.next_frame()
        assert caught.value.fatal and not decoder.at_eof
        with pytest.raises(LocalProtocolError):
            decoder.feed(b"more")
    decoder = FrameDecoder()
    decoder.feed(frame_of(payload_of(GOOD)))
    decoder.feed_eof()
    assert decoder.next_frame() is not None and decoder.next_frame() is None and decoder.at_eof


def test_reading_goes_on_after_a_bad_frame() -> None:
    decoder = FrameDecoder()
    decoder.feed(frame_of(b"junk") + frame_of(payload_of(GOOD)))
    with pytest.raises(MalformedFrame):
        decoder.next_frame()
    assert decoder.next_frame() == Frame(5, UploadAck("R1", "shop-a"), None, "cloud", None)
    assert decoder.payloads == 2


# --------------------------------------------------------------------------- the server's rules


def test_hello_then_accept_then_messages_with_the_recipient() -> None:
    server = open_server()
    assert server.state is ConnectionState.OPEN and server.address == PHONE
    server.receive_data(encode_frame(REQUEST, 2, recipient="cloud"))
    assert server.events() == [MessageReceived(2, REQUEST, None, "cloud")]
    server.send(UploadAck("R1", "shop-a"), "cloud")
    assert decode_all(server.data_to_send()) == [Frame(2, UploadAck("R1", "shop-a"), "cloud")]


def test_frames_after_the_hello_wait_for_the_authentication() -> None:
    server = ServerConnection()
    server.receive_data(hello_frame() + encode_frame(REQUEST, 2, recipient="cloud"))
    assert [type(e) for e in server.events()] == [HelloReceived]
    assert server.state is ConnectionState.AUTHENTICATING and server.events() == []
    server.accept(PHONE)
    assert server.events() == [MessageReceived(2, REQUEST, None, "cloud")]


def test_a_refused_hello_gets_unauthorized_and_the_connection_closes() -> None:
    server = ServerConnection()
    server.receive_data(hello_frame() + encode_frame(REQUEST, 2, recipient="cloud"))
    server.events()
    server.refuse(ErrorCode.UNAUTHORIZED, "unknown device token")
    assert server.state is ConnectionState.CLOSED
    assert refusals(server) == [(ErrorCode.UNAUTHORIZED, None)]
    assert server.events() == []
    with pytest.raises(LocalProtocolError):
        server.send(UploadAck("R1", "shop-a"), "cloud")


@pytest.mark.parametrize(
    ("first", "code"),
    [
        (encode_frame(REQUEST, 1, recipient="cloud"), ErrorCode.HELLO_REQUIRED),
        (encode_frame(HelloAck(WIRE_VERSION, PHONE), 1), ErrorCode.HELLO_REQUIRED),
        (hello_frame(version=4), ErrorCode.UNSUPPORTED_VERSION),
        (frame_of(payload_of({"v": 4, "id": 1, "type": "hello", "body": {}})), "unsupported"),
        (frame_of(b"GET / HTTP/1.1"), ErrorCode.MALFORMED_FRAME),
        (b"GET / HTTP/1.1\r\n\r\n", ErrorCode.FRAME_TOO_LARGE),
        (encode_frame(Hello(WIRE_VERSION, PHONE), 1, recipient="cloud"), ErrorCode.MALFORMED_FRAME),
    ],
)
def test_anything_but_a_good_hello_first_is_refused_and_closes(first: bytes, code: str) -> None:
    server = ServerConnection()
    server.receive_data(first + hello_frame(2))
    events = server.events()
    assert isinstance(events[0], FrameRefused) and events[0].fatal
    assert isinstance(events[-1], ConnectionClosed)
    assert server.state is ConnectionState.CLOSED
    (refused,) = refusals(server)
    expected = ErrorCode.UNSUPPORTED_VERSION if code == "unsupported" else code
    assert refused[0] == expected


def test_a_version_mismatch_names_both_versions() -> None:
    server = ServerConnection()
    server.receive_data(hello_frame(version=4))
    server.events()
    (frame,) = decode_all(server.data_to_send())
    assert isinstance(frame.message, ErrorReply)
    assert "speaks 4" in frame.message.detail and "speaks 3" in frame.message.detail
    assert frame.refers_to == 1


def _version_2_peer(envelope_version: int) -> bytes:
    """What a peer of wire version 2 sends first: its hello (the envelope's ``v`` as
    given), then at once a request in version 2's words (no ``merchant_id``)."""
    hello = {"version": 2, "address": PHONE, "credential": "token"}
    request = {"request_id": 1, "receipt_id": "R1", "phone_id": "+8613800000001"}
    return frame_of(
        payload_of({"v": envelope_version, "id": 1, "type": "hello", "body": hello})
    ) + frame_of(
        payload_of({"v": 2, "id": 2, "to": "cloud", "type": "association-request", "body": request})
    )


@pytest.mark.parametrize("envelope_version", [2, WIRE_VERSION])
def test_a_version_2_peer_is_refused_once_at_its_hello_naming_both_versions(
    envelope_version: int,
) -> None:
    """Version 3 changed the bodies (merchant_id): a version 2 peer gets one
    ``unsupported-version`` at its hello, not an ``invalid-message`` per message."""
    assert WIRE_VERSION == 3
    server = ServerConnection()
    server.receive_data(_version_2_peer(envelope_version))
    events = server.events()
    (frame,) = decode_all(server.data_to_send())
    assert isinstance(frame.message, ErrorReply)
    assert frame.message.code is ErrorCode.UNSUPPORTED_VERSION and frame.refers_to == 1
    assert frame.message.detail == (
        "unsupported wire version: the peer speaks 2, this side speaks 3"
    )
    assert server.state is ConnectionState.CLOSED
    assert not [e for e in events if isinstance(e, HelloReceived | MessageReceived)]


@pytest.mark.parametrize(
    ("frame", "code", "words"),
    [
        (encode_frame(REQUEST, 2), ErrorCode.MALFORMED_FRAME, "'to'"),
        (encode_frame(REQUEST, 2, recipient="cloud", sender=PHONE), "malformed", "'from'"),
        (encode_frame(REQUEST, 2, recipient="cloud", refers_to=1), "malformed", "'re'"),
        (encode_frame(REQUEST, 1, recipient="cloud"), "malformed", "not greater"),
        (hello_frame(2), ErrorCode.UNEXPECTED_MESSAGE, "hello is not expected"),
        (encode_frame(HelloAck(WIRE_VERSION, PHONE), 2), ErrorCode.UNEXPECTED_MESSAGE, "hello-ack"),
        (frame_of(payload_of({**GOOD, "id": 2, "v": 1})), ErrorCode.UNSUPPORTED_VERSION, "1"),
        (frame_of(payload_of({**GOOD, "id": 2, "body": {}})), ErrorCode.INVALID_MESSAGE, ""),
    ],
)
def test_a_bad_frame_on_an_open_connection_is_refused_and_the_connection_goes_on(
    frame: bytes, code: str, words: str
) -> None:
    server = open_server()
    server.receive_data(frame + encode_frame(UploadAck("R2", "shop-a"), 9, recipient="cloud"))
    events = server.events()
    assert isinstance(events[0], FrameRefused) and not events[0].fatal
    assert words in events[0].reply.detail
    assert events[1:] == [MessageReceived(9, UploadAck("R2", "shop-a"), None, "cloud")]
    expected = ErrorCode.MALFORMED_FRAME if code == "malformed" else code
    assert [c for c, _ in refusals(server)] == [expected]
    assert server.state is ConnectionState.OPEN


def test_too_many_refusals_close_the_connection() -> None:
    server = ServerConnection(max_errors=3)
    server.receive_data(hello_frame())
    server.events()
    server.accept(PHONE)
    server.receive_data(frame_of(b"x") * 5)
    events = server.events()
    assert [type(e) for e in events] == [FrameRefused] * 3 + [ConnectionClosed]
    assert isinstance(events[-1], ConnectionClosed) and "3 frames refused" in events[-1].reason
    assert server.state is ConnectionState.CLOSED
    assert ServerConnection().max_errors == MAX_ERRORS_PER_CONNECTION


def test_an_oversized_frame_on_an_open_connection_is_refused_and_closes() -> None:
    server = open_server()
    server.receive_data(struct.pack(">I", 2**32 - 1))
    events = server.events()
    assert isinstance(events[0], FrameRefused) and events[0].fatal
    assert refusals(server) == [(ErrorCode.FRAME_TOO_LARGE, None)]
    assert server.state is ConnectionState.CLOSED


def test_the_end_of_the_stream_closes_cleanly_or_as_truncated() -> None:
    server = open_server()
    server.receive_data(b"")
    assert server.events() == [ConnectionClosed("the client closed the connection")]
    server = open_server()
    server.receive_data(encode_frame(REQUEST, 2, recipient="cloud")[:-3])
    assert server.events() == [] and server.in_frame
    server.receive_data(b"")
    events = server.events()
    assert isinstance(events[0], FrameRefused) and events[0].fatal
    assert server.state is ConnectionState.CLOSED


def test_a_policy_refusal_keeps_the_connection_open() -> None:
    server = open_server()
    server.refuse_message(4, ErrorCode.UNAUTHORIZED, "may not relay")
    assert refusals(server) == [(ErrorCode.UNAUTHORIZED, 4)]
    assert server.state is ConnectionState.OPEN and server.errors == 0


def test_misusing_the_server_connection_is_a_local_error() -> None:
    server = ServerConnection()
    with pytest.raises(LocalProtocolError, match="no hello to accept"):
        server.accept(PHONE)
    with pytest.raises(LocalProtocolError):
        server.send(UploadAck("R1", "shop-a"), "cloud")
    server.receive_data(hello_frame())
    server.events()
    with pytest.raises(LocalProtocolError, match="malformed address"):
        server.accept("not an address")
    with pytest.raises(LocalProtocolError):
        FrameDecoder(max_frame_bytes=MAX_FRAME_BYTES + 1)


# --------------------------------------------------------------------------- the client's rules


def test_the_client_says_hello_first_and_opens_on_the_ack() -> None:
    client = ClientConnection(Hello(WIRE_VERSION, PHONE, "token"))
    assert decode_all(client.data_to_send()) == [Frame(1, Hello(WIRE_VERSION, PHONE, "token"))]
    with pytest.raises(LocalProtocolError):
        client.send(REQUEST, "cloud")
    client.receive_data(
        encode_frame(HelloAck(WIRE_VERSION, PHONE), 1)
        + encode_frame(SubscribeAck("+8613800000001"), 2, sender="cloud")
    )
    assert client.events() == [
        Connected(PHONE),
        MessageReceived(2, SubscribeAck("+8613800000001"), "cloud", None),
    ]
    client.send(REQUEST, "cloud")
    assert decode_all(client.data_to_send()) == [Frame(2, REQUEST, None, "cloud")]
    client.receive_data(encode_frame(ErrorReply(ErrorCode.INVALID_MESSAGE, "bad"), 3, refers_to=2))
    assert client.events() == [PeerRefused(ErrorReply(ErrorCode.INVALID_MESSAGE, "bad"), 2)]
    assert client.state is ConnectionState.OPEN


def test_a_refused_hello_closes_the_client() -> None:
    client = ClientConnection(Hello(WIRE_VERSION, PHONE))
    refusal = ErrorReply(ErrorCode.UNAUTHORIZED, "unknown device token")
    client.receive_data(encode_frame(refusal, 1))
    events = client.events()
    assert events[0] == PeerRefused(refusal, None)
    assert isinstance(events[1], ConnectionClosed) and "unauthorized" in events[1].reason
    assert client.state is ConnectionState.CLOSED


@pytest.mark.parametrize(
    ("data", "foreign"),
    [
        # foreign: what no cloud sends (a caller stops retrying): a first frame that is no
        # hello-ack of this hello, a frame that does not decode
        (encode_frame(HelloAck(WIRE_VERSION, "phone:+8613800000002"), 1), True),  # another's
        (encode_frame(HelloAck(WIRE_VERSION + 1, PHONE), 1), True),
        (encode_frame(UploadAck("R1", "shop-a"), 1, sender="cloud"), True),  # no ack first
        (encode_frame(HelloAck(WIRE_VERSION, PHONE), 1) + frame_of(b"junk"), True),
        (frame_of(b"junk"), True),
        # a cloud that accepted the hello and then broke a rule: closed, a retry may pass
        (encode_frame(HelloAck(WIRE_VERSION, PHONE), 1)
         + encode_frame(UploadAck("R1", "shop-a"), 2), False),  # no "from"
        (encode_frame(HelloAck(WIRE_VERSION, PHONE), 1)
         + encode_frame(UploadAck("R1", "shop-a"), 1, sender="cloud"), False),
        (encode_frame(HelloAck(WIRE_VERSION, PHONE), 1)
         + encode_frame(HelloAck(WIRE_VERSION, PHONE), 2, sender="c"), False),
        (encode_frame(HelloAck(WIRE_VERSION, PHONE), 1)
         + encode_frame(UploadAck("R1", "shop-a"), 2, sender="c", recipient="other"), False),
    ],
)  # fmt: skip
def test_a_client_closes_on_anything_wrong_from_its_server(data: bytes, foreign: bool) -> None:
    client = ClientConnection(Hello(WIRE_VERSION, PHONE))
    client.receive_data(data)
    events = client.events()
    assert isinstance(events[-1], ConnectionClosed)
    assert events[-1].foreign is foreign
    assert client.state is ConnectionState.CLOSED


def test_a_server_closing_or_refusing_the_hello_is_no_foreign_peer() -> None:
    client = ClientConnection(Hello(WIRE_VERSION, PHONE))
    client.receive_data(encode_frame(ErrorReply(ErrorCode.OVERLOADED, "busy"), 1))
    assert [e.foreign for e in client.events() if isinstance(e, ConnectionClosed)] == [False]
    client = ClientConnection(Hello(WIRE_VERSION, PHONE))
    client.receive_data(b"")
    assert client.events() == [ConnectionClosed("the server closed the connection")]


# --------------------------------------------------------------------------- fuzzing


def run_server(chunks: Iterable[bytes], *, hello_first: bool) -> Counter[str]:
    """Feed ``chunks`` to a fresh server connection (after a good hello if asked) and check
    every promise: ``events()`` never raises, every byte the server writes is a frame of
    the documented kind, every refusal has a documented code, and a fatal refusal closes.
    Returns what happened, by kind."""
    seen: Counter[str] = Counter()
    server = ServerConnection()
    client_view = FrameDecoder()  # the server's output, read as a strict client would
    if hello_first:
        server.receive_data(hello_frame())
        server.events()
        server.accept(PHONE)
    for chunk in [*chunks, b""]:
        server.receive_data(chunk)
        while True:  # bounded: each round consumes input or stops
            events = server.events()
            for event in events:
                seen[type(event).__name__] += 1
                if isinstance(event, FrameRefused):
                    assert event.reply.code in TRANSPORT_REFUSALS
                    seen[str(event.reply.code)] += 1
                    if event.fatal:
                        assert server.state is ConnectionState.CLOSED
                if isinstance(event, HelloReceived):
                    server.accept(event.hello.address)
            if not any(isinstance(e, HelloReceived) for e in events):
                break
        client_view.feed(server.data_to_send())
        for frame in client_view.frames():
            message = frame.message
            assert frame.sender is None
            if isinstance(message, ErrorReply):
                assert message.code in TRANSPORT_REFUSALS
                assert len(message.detail) <= MAX_DETAIL_LENGTH
            else:
                assert isinstance(message, HelloAck)
        if server.state is ConnectionState.CLOSED:
            break
    assert server.state is ConnectionState.CLOSED  # the input ended: the connection is over
    seen["frames read"] += server.frames_received
    return seen


VALID_FRAMES = [
    hello_frame(2),
    encode_frame(REQUEST, 2, recipient="cloud"),
    encode_frame(Subscribe("+8613800000001"), 3, recipient="cloud"),
    encode_frame(
        PurchaseUpload(
            "R0000001",
            "shop-01",
            "pos-1",
            "+8613800000001",
            (Item("SKIN-FW-001", "Face Wash 150ml", "face-wash", "Hydra", "", 1, 6.5),),
            3600.0,
        ),
        4,
        recipient="cloud",
    ),
    encode_frame(ErrorReply(ErrorCode.UNKNOWN_RECEIPT, "no", "R1", 1), 5, recipient="cloud"),
    encode_frame(UploadAck("R1", "shop-a"), 6, recipient="pos:shop-01:pos-1"),
]

_TOKENS = [b'"v"', b'"id"', b'"to"', b'"from"', b'"re"', b'"type"', b'"body"', b"2", b"0"]
_TOKENS += [b"-1", b"9" * 30, b"1e999", b"NaN", b"null", b"true", b'"\\ud800"', b"[", b"{"]
_TOKENS += [b"}", b"]", b",", b":", b'"hello"', b'"hello-ack"', b"\xff", b"\x00", b'"\\u0000"']


def mutate(frame: bytes, rng: random.Random) -> bytes:
    """One random mutation of a valid frame (or of the bytes of several)."""
    data = bytearray(frame)
    kind = rng.randrange(10)
    if kind == 0:  # flip bits
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncate
        del data[rng.randrange(len(data)) :]
    elif kind == 2:  # random bytes inside
        at = rng.randrange(len(data))
        data[at:at] = rng.randbytes(rng.randint(1, 16))
    elif kind == 3:  # another length prefix
        data[0:4] = struct.pack(
            ">I",
            rng.choice([0, 1, len(data) - 5, len(data) - 3, rng.randrange(2**32), 2**32 - 1]),
        )
    elif kind == 4:  # a JSON token replaced or inserted, keeping the length prefix honest
        payload = bytearray(data[4:])
        at = rng.randrange(len(payload))
        end = at + rng.randint(0, 8) if rng.random() < 0.7 else at
        payload[at:end] = rng.choice(_TOKENS)
        data = bytearray(frame_of(bytes(payload)))
    elif kind == 5:  # a field's value swapped in the JSON
        envelope = json.loads(data[4:])
        key = rng.choice(["v", "id", "type", "to", "from", "re", "body", "extra"])
        envelope[key] = rng.choice([None, 0, 3, -1, 2**53, "x", "cloud", [], {}, 1.5, True])
        data = bytearray(frame_of(json.dumps(envelope).encode()))
    elif kind == 6:  # a body field's value swapped
        envelope = json.loads(data[4:])
        body = envelope["body"]
        key = rng.choice([*body, "unknown"])
        body[key] = rng.choice([None, "", "x" * 300, -5, 1e308, [], {"a": 1}, "+1"])
        data = bytearray(frame_of(json.dumps(envelope).encode()))
    elif kind == 7:  # pure noise
        data = bytearray(rng.randbytes(rng.randint(0, 64)))
    elif kind == 8:  # nested deeply
        depth = rng.randint(1, 50_000)
        data = bytearray(frame_of(b"[" * depth + b"]" * rng.randint(0, depth)))
    else:  # two frames run together, or a frame split by noise
        data += rng.choice(VALID_FRAMES)[: rng.randint(0, 64)]
    return bytes(data)


def chop(data: bytes, rng: random.Random) -> list[bytes]:
    """``data`` cut into chunks at random points (as TCP may deliver it)."""
    cuts = sorted(rng.randrange(len(data) + 1) for _ in range(rng.randint(0, 3)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True) if b > a]


@given(st.binary(max_size=2048), st.booleans())
def test_arbitrary_bytes_never_crash_or_hang_the_decoder_or_the_server(
    data: bytes, hello_first: bool
) -> None:
    decoder = FrameDecoder()
    decoder.feed(data)
    decoder.feed_eof()
    for _ in range(len(data) + 2):  # every frame read consumes at least 4 bytes
        try:
            if decoder.next_frame() is None:
                break
        except WireError as error:
            if error.fatal:
                break
    else:
        pytest.fail("the decoder did not finish")
    run_server([data], hello_first=hello_first)


@given(
    st.lists(st.tuples(st.sampled_from(VALID_FRAMES), st.integers(0, 2**32)), max_size=8),
    st.booleans(),
)
def test_mutated_valid_frames_get_documented_refusals_only(
    picks: list[tuple[bytes, int]], hello_first: bool
) -> None:
    rng = random.Random(len(picks))
    stream = b"".join(mutate(frame, random.Random(seed)) for frame, seed in picks)
    run_server(chop(stream, rng), hello_first=hello_first)


def test_mutation_fuzz_of_the_server_connection() -> None:
    """Seeded mutation fuzzing, ``ASSOCSIM_FUZZ_FRAMES`` frames (default 3,000)."""
    total = int(os.environ.get("ASSOCSIM_FUZZ_FRAMES", "3000"))
    rng = random.Random(int(os.environ.get("ASSOCSIM_FUZZ_SEED", "4")))
    seen: Counter[str] = Counter()
    frames = sessions = 0
    started = time.perf_counter()
    while frames < total:
        count = min(rng.randint(1, 12), total - frames)
        parts = []
        for _ in range(count):
            frame = rng.choice(VALID_FRAMES)
            parts.append(frame if rng.random() < 0.3 else mutate(frame, rng))
        seen += run_server(chop(b"".join(parts), rng), hello_first=rng.random() < 0.8)
        frames += count
        sessions += 1
    elapsed = time.perf_counter() - started
    print(
        f"\nmutation fuzz: {frames} frames in {sessions} connections, {elapsed:.1f} s "
        f"({frames / elapsed:,.0f} frames/s); outcomes: {dict(sorted(seen.items()))}"
    )
    assert seen["FrameRefused"] and seen["MessageReceived"] and seen["HelloReceived"]


def test_every_refusal_code_a_server_sends_is_documented() -> None:
    assert documented_error_codes() >= TRANSPORT_REFUSALS
    assert set(CONTROL_TYPES).isdisjoint(MESSAGE_TYPES)
    assert {HelloRequired.code, UnexpectedFrame.code} <= TRANSPORT_REFUSALS
