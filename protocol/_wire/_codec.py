"""The wire codec: messages to and from JSON-ready dicts, versioned.

Version 3 encodes a message as ``{"v": 3, "type": TYPE, "body": {...}}`` where ``TYPE`` is
the kebab-case name of the message class (``purchase-upload``) and ``body`` holds its
fields by name; enums travel as their string values, tuples as lists. Decoding validates
everything: a body that is not a valid message raises :class:`RemoteProtocolError`.
Serialisation lives here, at the edge, never in the message classes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final

import cattrs

from protocol._core._errors import RemoteProtocolError
from protocol._core._messages import (
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    ErrorReply,
    Message,
    NoticeAck,
    PromotionAck,
    PromotionUpdate,
    PurchaseUpload,
    PushAck,
    ReceiptNotice,
    Subscribe,
    SubscribeAck,
    UploadAck,
)
from protocol._core._structuring import describe_errors, strict_converter

from . import _fast
from ._lengths import bounds_of, refuse_long_lists

__all__ = [
    "MESSAGE_TYPES",
    "WIRE_VERSION",
    "decode_json",
    "decode_message",
    "encode_json",
    "encode_message",
    "message_type",
]

WIRE_VERSION: Final = 3  # 3: merchant_id in every receipt's message, bounds (issue 14)


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


_CLASSES: tuple[type[Message], ...] = (
    Subscribe,
    SubscribeAck,
    PurchaseUpload,
    UploadAck,
    ReceiptNotice,
    NoticeAck,
    AssociationRequest,
    AssociationResponse,
    AssociationPush,
    PushAck,
    PromotionUpdate,
    PromotionAck,
    ErrorReply,
)
MESSAGE_TYPES: Final[dict[str, type[Message]]] = {_kebab(c.__name__): c for c in _CLASSES}
"""Wire type name -> message class."""
_TYPE_NAMES: Final[dict[type[Message], str]] = {c: n for n, c in MESSAGE_TYPES.items()}

_converter = strict_converter()

_LIST_BOUNDS: Final = bounds_of(MESSAGE_TYPES.items())
"""Wire type name -> (list field, most entries), for the types that carry lists."""


_FAST_STRUCTURE: Final[dict[str, Callable[[Any], Any]]] = {
    _TYPE_NAMES[cls]: fn for cls, fn in _fast.generated(_fast.structurer, _CLASSES).items()
}
"""Wire type name -> the generated structuring function of its body (see _fast)."""
_FAST_UNSTRUCTURE: Final[dict[type[Any], Callable[[Any], dict[str, Any]]]] = _fast.generated(
    _fast.unstructurer, _CLASSES
)
"""Message class -> the generated unstructuring function of its body (see _fast)."""


def message_type(message: Message) -> str:
    """The wire type name of ``message``, e.g. ``"association-request"``."""
    return _TYPE_NAMES[type(message)]


def encode_message(message: Message) -> dict[str, Any]:
    """A JSON-ready dict of ``message`` in the current wire format version."""
    body = _unstructure_body(message)
    return {"v": WIRE_VERSION, "type": _TYPE_NAMES[type(message)], "body": body}


def _unstructure_body(message: object) -> dict[str, Any]:
    """The body of ``message``: the generated function's output (the converter's, on any
    error, so that errors are the converter's)."""
    fast = _FAST_UNSTRUCTURE.get(type(message))
    if fast is None:
        return _unstructure_slowly(message)
    try:
        body: dict[str, Any] = fast(message)
    except Exception as exc:  # counted; a warning if the converter succeeds
        return _fast.fall_back(
            "unstructure", type(message), lambda: _unstructure_slowly(message), exc
        )
    return body


def _unstructure_slowly(message: object) -> dict[str, Any]:
    unstructured: dict[str, Any] = _converter.unstructure(message)
    return unstructured


def _structure_body(name: str, body: dict[str, Any]) -> Message:
    """The message of type ``name`` (a key of MESSAGE_TYPES) whose body is ``body``; raises
    :class:`RemoteProtocolError` if invalid.

    Every list's length first, so that an over-long one is refused before a single entry
    is built; then the generated function; on any doubt the converter, which accepts or
    refuses with the detailed message (the generated function never accepts what it
    refuses).
    """
    bounds = _LIST_BOUNDS.get(name)
    if bounds is not None:
        refuse_long_lists(name, MESSAGE_TYPES[name].__name__, bounds, body)
    fast = _FAST_STRUCTURE.get(name)
    if fast is None:
        return _structure_slowly(name, body)
    try:
        message: Message = fast(body)
    except Exception as exc:  # counted; a warning if the converter accepts
        return _fast.fall_back(
            "structure", MESSAGE_TYPES[name], lambda: _structure_slowly(name, body), exc
        )
    return message


def _structure_slowly(name: str, body: dict[str, Any]) -> Message:
    try:
        message: Message = _converter.structure(body, MESSAGE_TYPES[name])
    except Exception as exc:
        raise RemoteProtocolError(f"{name}: {_describe(exc)}") from exc
    return message


def decode_message(data: object) -> Message:
    """The message encoded in ``data``; raises :class:`RemoteProtocolError` if invalid."""
    if not isinstance(data, dict):
        raise RemoteProtocolError(f"a message must be a JSON object, got {type(data).__name__}")
    version = data.get("v")
    if type(version) is not int or version != WIRE_VERSION:
        raise RemoteProtocolError(
            f"unsupported wire format version {version!r} (this side speaks {WIRE_VERSION})"
        )
    name = data.get("type")
    if not isinstance(name, str) or name not in MESSAGE_TYPES:
        raise RemoteProtocolError(
            f"unknown message type {name!r}; expected one of {', '.join(MESSAGE_TYPES)}"
        )
    body = data.get("body")
    if not isinstance(body, dict):
        raise RemoteProtocolError(f"{name}: 'body' must be a JSON object")
    return _structure_body(name, body)


def encode_json(message: Message) -> bytes:
    """``message`` as compact UTF-8 JSON."""
    return json.dumps(encode_message(message), separators=(",", ":")).encode()


def decode_json(raw: bytes | str) -> Message:
    """The message in the JSON text ``raw``; raises :class:`RemoteProtocolError` if invalid."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RemoteProtocolError(f"not valid JSON: {exc}") from exc
    return decode_message(data)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(describe_errors(exc))
    return str(exc)
