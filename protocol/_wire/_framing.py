"""Framing of the protocol on a byte stream (TCP, TLS), sans-I/O.

A **frame** is a 4-byte big-endian unsigned length ``N`` followed by ``N`` bytes of UTF-8
JSON: the **envelope** of one message::

    {"v": 2, "id": 7, "to": "cloud", "type": "association-request", "body": {...}}

* ``v``: the wire format version (:data:`~protocol.WIRE_VERSION`); ``type`` and ``body``
  are those of the message codec (:func:`~protocol.encode_message`).
* ``id``: the frame number, a whole number from 1 to 2**53 - 1 (safe in every JSON
  parser), strictly increasing on each connection in each direction (1, 2, 3, ...).
* ``to`` (client -> server only, required): the address the message is for.
* ``from`` (server -> client only, required on messages): the address that sent it, as the
  server authenticated it. A client never says who it is in a frame: the connection does.
* ``re`` (server -> client only): on a refusal of one of the client's frames, that frame's
  ``id`` (when it could be read).

Every connection starts with a :class:`Hello` from the client (its version, the address it
speaks for, a credential); the server answers :class:`HelloAck` or refuses with an
:class:`~protocol.ErrorReply` and closes. The pure state machines
:class:`ServerConnection` and :class:`ClientConnection` carry out these rules (h11 style:
feed them bytes with ``receive_data``, read ``events()``, write ``data_to_send()``); the
trio transport in ``actors`` only moves bytes.

Bad input is refused with a typed :class:`WireError` whose ``code`` is the
:class:`~protocol.ErrorCode` of the reply. The decoder never reads a payload longer than
:data:`MAX_FRAME_BYTES`: an oversized length prefix is refused as soon as its 4 bytes are
in, and the stream is no longer trusted (``fatal``).
"""

from __future__ import annotations

import collections
import enum
import json
import re
import reprlib
import struct
from collections.abc import Iterator
from typing import Any, Final, NoReturn

import attrs
import cattrs
import orjson

from protocol._core._effects import Address
from protocol._core._errors import LocalProtocolError, RemoteProtocolError
from protocol._core._ids import is_token
from protocol._core._messages import ErrorCode, ErrorReply, Message
from protocol._core._structuring import describe_errors, strict_converter
from protocol._core._validators import positive_int, text

from . import _fast
from ._codec import (
    _TYPE_NAMES,
    MESSAGE_TYPES,
    WIRE_VERSION,
    _structure_body,
    _unstructure_body,
    message_type,
)

__all__ = [
    "CONTROL_TYPES",
    "FRAME_HEADER_BYTES",
    "MAX_ADDRESS_LENGTH",
    "MAX_CREDENTIAL_LENGTH",
    "MAX_DETAIL_LENGTH",
    "MAX_ERRORS_PER_CONNECTION",
    "MAX_FRAME_BYTES",
    "MAX_FRAME_ID",
    "ClientConnection",
    "ClientEvent",
    "Connected",
    "ConnectionClosed",
    "ConnectionState",
    "Frame",
    "FrameDecoder",
    "FrameRefused",
    "FrameTooLarge",
    "Hello",
    "HelloAck",
    "HelloReceived",
    "HelloRequired",
    "InvalidBody",
    "MalformedFrame",
    "MessageReceived",
    "PeerRefused",
    "ServerConnection",
    "ServerEvent",
    "TruncatedFrame",
    "UnexpectedFrame",
    "UnsupportedVersion",
    "WireError",
    "WireMessage",
    "decode_payload",
    "encode_envelope",
    "encode_frame",
    "is_address",
]

# --------------------------------------------------------------------------- limits

FRAME_HEADER_BYTES: Final = 4
"""The length prefix: 4 bytes, big-endian, unsigned; it counts the payload only."""

MAX_FRAME_BYTES: Final = 4 * 1024 * 1024
"""The largest payload a frame may announce (4 MiB). Every valid message fits: the largest
one (500 items whose four texts are 200 control characters, each escaped as ``\\u00XX``)
is about 2.5 MB. A length prefix above it is refused before any payload is read."""

MAX_ADDRESS_LENGTH: Final = 200
"""Addresses (``to``, ``from``, a hello's ``address``): 1 to 200 characters."""

MAX_CREDENTIAL_LENGTH: Final = 1024
"""A hello's ``credential``: at most 1024 characters (may be empty)."""

MAX_FRAME_ID: Final = 2**53 - 1
"""The largest frame ``id`` (the largest integer every JSON parser reads exactly)."""

MAX_DETAIL_LENGTH: Final = 400
"""An error reply's ``detail``: at most 400 characters (longer explanations are cut)."""

MAX_ERRORS_PER_CONNECTION: Final = 32
"""A server closes a connection after refusing this many of its frames."""

CONTROL_TYPES: Final = ("hello", "hello-ack")
"""Envelope types that belong to the connection, not to the protocol's messages."""

_HEADER = struct.Struct(">I")
_ADDRESS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+@-]{0,199}")
_ENVELOPE_KEYS: Final = frozenset({"v", "id", "type", "from", "to", "re", "body"})


def is_address(value: object) -> bool:
    """True when ``value`` is a well-formed address: 1 to 200 letters, digits or
    ``._:+@-``, starting with a letter or digit (``cloud``, ``phone:+8613800000001``,
    ``pos:shop-01:pos-1``)."""
    return isinstance(value, str) and _ADDRESS.fullmatch(value) is not None


def _address_validator(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not is_address(value):
        raise LocalProtocolError(
            f"{type(instance).__name__}.{attribute.name}: malformed address {value!r} "
            "(expected 1 to 200 letters, digits or '._:+@-', starting with a letter or digit)"
        )


# --------------------------------------------------------------------------- hello


@attrs.frozen
class Hello:
    """Client -> server, the first frame of every connection.

    ``version``: the wire version the client speaks. ``address``: the party it speaks for
    (``pos:shop-01:pos-1``, ``phone:+8613800000001``). ``credential``: what proves it (a
    merchant key, a device token; may be empty), checked by the server's authentication.
    """

    version: int = attrs.field(validator=positive_int)
    address: Address = attrs.field(validator=_address_validator)
    credential: str = attrs.field(
        default="", repr=False, validator=text(MAX_CREDENTIAL_LENGTH, allow_empty=True)
    )


@attrs.frozen
class HelloAck:
    """Server -> client: the connection is open and speaks for ``address``."""

    version: int = attrs.field(validator=positive_int)
    address: Address = attrs.field(validator=_address_validator)


WireMessage = Message | Hello | HelloAck
"""What a frame can carry: a protocol message, or a connection's hello or its ack."""

_CONTROL_CLASSES: Final[dict[str, type[Hello] | type[HelloAck]]] = {
    "hello": Hello,
    "hello-ack": HelloAck,
}
_CONTROL_NAMES: Final[dict[type[Hello] | type[HelloAck], str]] = {
    Hello: "hello",
    HelloAck: "hello-ack",
}


# --------------------------------------------------------------------------- errors


class WireError(RemoteProtocolError):
    """The peer sent a frame this side refuses; ``code`` is the refusal's error code.

    ``fatal``: the stream can no longer be trusted (an unreadable length, a stream cut
    inside a frame): the connection must close. ``frame_id``, ``receipt_id`` and
    ``request_id`` name what was refused, when they could be read.
    """

    code: ErrorCode = ErrorCode.MALFORMED_FRAME
    fatal: bool = False

    def __init__(
        self,
        detail: str,
        *,
        frame_id: int | None = None,
        receipt_id: str | None = None,
        request_id: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.frame_id = frame_id
        self.receipt_id = receipt_id
        self.request_id = request_id

    def reply(self) -> ErrorReply:
        """The error reply that tells the peer what was refused and why."""
        return ErrorReply(self.code, _cut(self.detail), self.receipt_id, self.request_id)


class FrameTooLarge(WireError):
    """A length prefix announced more than the limit (fatal: the payload is never read)."""

    code = ErrorCode.FRAME_TOO_LARGE
    fatal = True


class TruncatedFrame(WireError):
    """The stream ended inside a frame (fatal)."""

    fatal = True


class MalformedFrame(WireError):
    """The payload is not UTF-8 JSON, or not a valid envelope."""


class UnsupportedVersion(WireError):
    """The frame is of another wire version than this side speaks."""

    code = ErrorCode.UNSUPPORTED_VERSION

    def __init__(self, version: object, ours: int = WIRE_VERSION, **ids: Any) -> None:
        super().__init__(
            f"unsupported wire version: the peer speaks {_show(version)}, this side speaks {ours}",
            **ids,
        )
        self.version = version
        self.ours = ours


class InvalidBody(WireError):
    """The envelope is fine but its message is not valid (a field breaks a rule)."""

    code = ErrorCode.INVALID_MESSAGE


class UnexpectedFrame(WireError):
    """A valid frame at the wrong moment (e.g. a second hello)."""

    code = ErrorCode.UNEXPECTED_MESSAGE


class HelloRequired(WireError):
    """The first frame of a connection was not a hello (fatal)."""

    code = ErrorCode.HELLO_REQUIRED
    fatal = True


def _cut(detail: str) -> str:
    detail = " ".join(detail.split()) or "refused"
    if len(detail) > MAX_DETAIL_LENGTH:
        return detail[: MAX_DETAIL_LENGTH - 3] + "..."
    return detail


# --------------------------------------------------------------------------- frames


@attrs.frozen
class Frame:
    """One decoded envelope."""

    id: int
    message: WireMessage
    sender: Address | None = None  # "from"
    recipient: Address | None = None  # "to"
    refers_to: int | None = None  # "re"

    @property
    def type(self) -> str:
        """The envelope's ``type``, e.g. ``"hello"`` or ``"upload-ack"``."""
        return _type_name(self.message)


def _type_name(message: WireMessage) -> str:
    if isinstance(message, Hello | HelloAck):
        return _CONTROL_NAMES[type(message)]
    return message_type(message)


_converter = strict_converter()
# The generated structuring and unstructuring of the control messages (see _fast; the
# converter decides whatever they doubt).
_CONTROL_STRUCTURE: Final = _fast.generated(_fast.structurer, (Hello, HelloAck))
_CONTROL_UNSTRUCTURE: Final = _fast.generated(_fast.unstructurer, (Hello, HelloAck))
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_ascii_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _is_frame_id(value: object) -> bool:
    return type(value) is int and 1 <= value <= MAX_FRAME_ID


def encode_envelope(
    message: WireMessage,
    frame_id: int,
    *,
    sender: Address | None = None,
    recipient: Address | None = None,
    refers_to: int | None = None,
) -> dict[str, Any]:
    """The JSON-ready envelope of ``message`` (what :func:`encode_frame` serialises)."""
    if not _is_frame_id(frame_id):
        raise LocalProtocolError(f"frame id must be a whole number 1..2**53-1, got {frame_id!r}")
    envelope: dict[str, Any] = {"v": WIRE_VERSION, "id": frame_id}
    if sender is not None:
        envelope["from"] = sender
    if recipient is not None:
        envelope["to"] = recipient
    if refers_to is not None:
        envelope["re"] = refers_to
    if isinstance(message, Hello | HelloAck):
        envelope["type"] = _CONTROL_NAMES[type(message)]
        envelope["body"] = _unstructure_control(message)
    else:
        body = _unstructure_body(message)  # as encode_message(message)["body"]
        envelope["type"] = _TYPE_NAMES[type(message)]
        envelope["body"] = body
    return envelope


def _unstructure_control(message: Hello | HelloAck) -> dict[str, Any]:
    fast = _CONTROL_UNSTRUCTURE.get(type(message))
    if fast is None:
        return _unstructure_control_slowly(message)
    try:
        return fast(message)
    except Exception as exc:  # counted; a warning if the converter succeeds
        return _fast.fall_back(
            "unstructure", type(message), lambda: _unstructure_control_slowly(message), exc
        )


def _unstructure_control_slowly(message: Hello | HelloAck) -> dict[str, Any]:
    body: dict[str, Any] = _converter.unstructure(message)
    return body


def encode_frame(
    message: WireMessage,
    frame_id: int,
    *,
    sender: Address | None = None,
    recipient: Address | None = None,
    refers_to: int | None = None,
) -> bytes:
    """``message`` as one frame: the length prefix, then the UTF-8 JSON envelope.

    Raises :class:`~protocol.LocalProtocolError` for an invalid ``frame_id`` (or a frame
    over :data:`MAX_FRAME_BYTES`, which no valid message reaches).
    """
    envelope = encode_envelope(
        message, frame_id, sender=sender, recipient=recipient, refers_to=refers_to
    )
    payload = _json_bytes(envelope)
    size = len(payload)
    if size > MAX_FRAME_BYTES:
        raise LocalProtocolError(
            f"a {envelope['type']} frame of {size} bytes exceeds MAX_FRAME_BYTES "
            f"({MAX_FRAME_BYTES})"
        )
    return _HEADER.pack(size) + payload


def _json_bytes(envelope: dict[str, Any]) -> bytes:
    """``envelope`` as compact UTF-8 JSON: orjson's canonical form, which peers decode fast.

    Validated messages hold only strings, whole numbers, finite floats, booleans and
    ``null``. What orjson refuses (a lone surrogate, a whole number over 64 bits) the
    stdlib's encoder writes instead: a lone surrogate as a ``\\u`` escape.
    """
    try:
        return orjson.dumps(envelope)
    except orjson.JSONEncodeError:
        pass
    try:
        return _encoder.encode(envelope).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (only JSON escapes can make one): escape it
        return _ascii_encoder.encode(envelope).encode("ascii")


def _json_value(payload: bytes | bytearray | memoryview) -> Any:
    """The JSON value of ``payload``, strictly: what :func:`_strict_json_value` returns.

    The fast path: orjson parses it, and if orjson writes the value back byte for byte,
    the payload was in canonical form (every peer's encoder here writes it), so no key
    was repeated (a repeated key would be written once) and the value is the one the
    strict parser gives. Anything else (whitespace, escapes, another float spelling, an
    error) is decided by the strict parser, with its messages.
    """
    try:
        data = orjson.loads(payload)
        if orjson.dumps(data) == payload:
            return data
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        pass
    return _strict_json_value(payload)


def _strict_json_value(payload: bytes | bytearray | memoryview) -> Any:
    """The JSON value of ``payload`` by the stdlib's parser: UTF-8 only, no duplicate
    keys, no ``NaN``/``Infinity``; raises :class:`MalformedFrame` otherwise."""
    try:
        text_ = bytes(payload).decode("utf-8")
    except UnicodeDecodeError as exc:
        detail = f"the payload is not UTF-8 ({exc.reason} at byte {exc.start})"
        raise MalformedFrame(detail) from None
    try:
        return _decoder.decode(text_)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedFrame(f"the payload is not valid JSON: {exc}") from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        counts = collections.Counter(key for key, _ in pairs)
        twice = next(key for key, count in counts.items() if count > 1)
        raise ValueError(f"duplicate key {twice!r} in a JSON object")
    return obj


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_decoder = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)


def decode_payload(payload: bytes | bytearray | memoryview) -> Frame:
    """The envelope in one frame's payload; raises a :class:`WireError` if it is invalid.

    Strict: UTF-8 only, JSON only (no ``NaN``, no duplicate keys), exactly the envelope's
    keys, a known type, a body that is a valid message.
    """
    return Frame(*_decode(payload))


_Decoded = tuple[int, WireMessage, Address | None, Address | None, int | None]


def _decode(payload: bytes | bytearray | memoryview) -> _Decoded:
    """:func:`decode_payload` as a plain tuple (the connections' hot path)."""
    data = _json_value(payload)
    if type(data) is not dict:
        raise MalformedFrame(f"the payload must be a JSON object, not {_json_kind(data)}")
    get = data.get
    frame_id = get("id")
    version = get("v")
    name = get("type")
    body = get("body")
    if not (  # the common case, checked at once; any doubt takes the slow path below
        version == WIRE_VERSION
        and type(version) is int
        and type(frame_id) is int
        and 0 < frame_id <= MAX_FRAME_ID
        and type(name) is str
        and type(body) is dict
        and _ENVELOPE_KEYS.issuperset(data)
    ):
        _refuse_envelope(data)
    sender = get("from")
    if sender is not None and (type(sender) is not str or sender not in _known_addresses):
        sender = _address_field(sender, "from", frame_id)
    recipient = get("to")
    if recipient is not None and (type(recipient) is not str or recipient not in _known_addresses):
        recipient = _address_field(recipient, "to", frame_id)
    refers_to = get("re")
    if refers_to is not None and not _is_frame_id(refers_to):
        raise MalformedFrame(f"'re' must be a frame id, got {_show(refers_to)}", frame_id=frame_id)
    message: WireMessage
    if name in MESSAGE_TYPES:
        try:
            message = _structure_body(name, body)  # decode_message of the envelope
        except RemoteProtocolError as exc:
            raise InvalidBody(
                str(exc),
                frame_id=frame_id,
                receipt_id=_token_or_none(body.get("receipt_id")),
                request_id=_request_id_or_none(body.get("request_id")),
            ) from None
    elif name in _CONTROL_CLASSES:
        message = _structure_control(name, body, frame_id)
    else:
        raise MalformedFrame(
            f"unknown message type {_show(name)}; expected one of "
            f"{', '.join((*CONTROL_TYPES, *MESSAGE_TYPES))}",
            frame_id=frame_id,
        )
    return frame_id, message, sender, recipient, refers_to


def _structure_control(name: str, body: dict[str, Any], frame_id: int) -> Hello | HelloAck:
    """The hello or hello-ack of ``body``: the generated function first, the converter on
    any doubt (it accepts, or refuses with the detailed message)."""
    cls = _CONTROL_CLASSES[name]
    fast = _CONTROL_STRUCTURE.get(cls)
    if fast is None:
        return _structure_control_slowly(name, body, frame_id)
    try:
        message: Hello | HelloAck = fast(body)
    except Exception as exc:  # counted; a warning if the converter accepts
        return _fast.fall_back(
            "structure", cls, lambda: _structure_control_slowly(name, body, frame_id), exc
        )
    return message


def _structure_control_slowly(name: str, body: dict[str, Any], frame_id: int) -> Hello | HelloAck:
    cls = _CONTROL_CLASSES[name]
    try:
        message: Hello | HelloAck = _converter.structure(body, cls)
    except Exception as exc:
        raise InvalidBody(f"{name}: {_describe(exc)}", frame_id=frame_id) from None
    return message


def _refuse_envelope(data: dict[str, Any]) -> NoReturn:
    """Raise the precise refusal of an envelope that failed the quick check."""
    frame_id = data.get("id")
    known_id = frame_id if _is_frame_id(frame_id) else None
    version = data.get("v")
    if type(version) is not int:
        raise MalformedFrame(
            f"'v' must be the wire version number, got {_show(version)}", frame_id=known_id
        )
    if version != WIRE_VERSION:
        raise UnsupportedVersion(version, frame_id=known_id)
    extra = data.keys() - _ENVELOPE_KEYS
    if extra:
        raise MalformedFrame(
            f"unknown envelope key(s) {', '.join(sorted(_show(k) for k in extra))}",
            frame_id=known_id,
        )
    if known_id is None:
        raise MalformedFrame(
            f"'id' must be a whole number from 1 to 2**53-1, got {_show(frame_id)}"
        )
    name = data.get("type")
    if type(name) is not str:
        raise MalformedFrame(f"'type' must be text, got {_show(name)}", frame_id=known_id)
    raise MalformedFrame(f"{_show(name)}: 'body' must be a JSON object", frame_id=known_id)


_known_addresses: set[str] = set()  # addresses already found well-formed (bounded)


def _address_field(value: object, key: str, frame_id: int) -> Address:
    if not is_address(value):
        raise MalformedFrame(
            f"{key!r} must be an address (1 to 200 letters, digits or '._:+@-'), "
            f"got {_show(value)}",
            frame_id=frame_id,
        )
    assert isinstance(value, str)
    if len(_known_addresses) >= 100_000:
        _known_addresses.clear()
    _known_addresses.add(value)
    return value


_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 60
_repr.maxlevel = 2


def _show(value: object) -> str:
    """A short, safe rendering of a peer's value for an error detail."""
    return _repr.repr(value)


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return "a number"


def _token_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and is_token(value) else None


def _request_id_or_none(value: object) -> int | None:
    return value if type(value) is int and value > 0 else None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(describe_errors(exc))
    return str(exc)


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


# --------------------------------------------------------------------------- connections


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
    """The connection is over: write what is queued, then close the stream."""

    reason: str


ServerEvent = HelloReceived | MessageReceived | FrameRefused | ConnectionClosed
ClientEvent = Connected | MessageReceived | PeerRefused | ConnectionClosed


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

    def _close(self, reason: str) -> ConnectionClosed:
        self.state = ConnectionState.CLOSED
        self.closed_reason = reason
        return ConnectionClosed(reason)


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
      closes).

    After ``max_errors`` refused frames, or any refusal before the hello is accepted, the
    connection closes.
    """

    def __init__(
        self,
        *,
        version: int = WIRE_VERSION,
        max_frame_bytes: int = MAX_FRAME_BYTES,
        max_errors: int = MAX_ERRORS_PER_CONNECTION,
    ) -> None:
        super().__init__(max_frame_bytes)
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
                out.append(self._close(f"the server sent a bad frame: {error}"))
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
                    out.append(self._close(reason))
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
