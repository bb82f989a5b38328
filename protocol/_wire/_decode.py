"""One frame's payload to its envelope and message, strictly; each breach a typed
refusal built in bounded time."""

from __future__ import annotations

import itertools
from typing import Any, NoReturn

from protocol._core._effects import Address
from protocol._core._errors import RemoteProtocolError
from protocol._core._ids import is_token
from protocol._core._structuring import MAX_LISTED_KEYS

from ._codec import (
    MESSAGE_TYPES,
    WIRE_VERSION,
    _structure_body,
)
from ._envelope import Frame, _is_frame_id, _structure_control
from ._hello import _CONTROL_CLASSES, WireMessage
from ._json import _json_kind, _json_value
from ._limits import _ENVELOPE_KEYS, CONTROL_TYPES, MAX_FRAME_ID, is_address
from ._refusals import InvalidBody, MalformedFrame, UnsupportedVersion, _show


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
    extra = len(data.keys() - _ENVELOPE_KEYS)
    if extra:
        # Name a few, in the peer's order, and count the rest: never sort or print every key
        # of a hostile envelope (400k keys took a second to refuse).
        named = itertools.islice((k for k in data if k not in _ENVELOPE_KEYS), MAX_LISTED_KEYS)
        more = f" and {extra - MAX_LISTED_KEYS} more" if extra > MAX_LISTED_KEYS else ""
        raise MalformedFrame(
            f"unknown envelope key(s) {', '.join(_show(k) for k in named)}{more}",
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


def _token_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and is_token(value) else None


def _request_id_or_none(value: object) -> int | None:
    return value if type(value) is int and value > 0 else None
