"""Messages to frames: the envelope, then the length-prefixed JSON payload."""

from __future__ import annotations

from typing import Any

from protocol._core._effects import Address
from protocol._core._errors import LocalProtocolError

from ._codec import (
    _TYPE_NAMES,
    WIRE_VERSION,
    _unstructure_body,
)
from ._envelope import _is_frame_id, _unstructure_control
from ._hello import _CONTROL_NAMES, Hello, HelloAck, WireMessage
from ._json import _json_bytes
from ._limits import _HEADER, MAX_FRAME_BYTES


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
