"""Framing of the protocol on a byte stream (TCP, TLS), sans-I/O.

A **frame** is a 4-byte big-endian unsigned length ``N`` followed by ``N`` bytes of UTF-8
JSON: the **envelope** of one message::

    {"v": 3, "id": 7, "to": "cloud", "type": "association-request", "body": {...}}

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

from typing import Any, Final

import attrs
import cattrs

from protocol._core._effects import Address
from protocol._core._structuring import describe_errors, strict_converter

from . import _fast
from ._hello import _CONTROL_CLASSES, Hello, HelloAck, WireMessage, _type_name
from ._limits import MAX_FRAME_ID
from ._refusals import InvalidBody

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


_converter = strict_converter()
# The generated structuring and unstructuring of the control messages (see _fast; the
# converter decides whatever they doubt).
_CONTROL_STRUCTURE: Final = _fast.generated(_fast.structurer, (Hello, HelloAck))
_CONTROL_UNSTRUCTURE: Final = _fast.generated(_fast.unstructurer, (Hello, HelloAck))


def _is_frame_id(value: object) -> bool:
    return type(value) is int and 1 <= value <= MAX_FRAME_ID


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


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(describe_errors(exc))
    return str(exc)
