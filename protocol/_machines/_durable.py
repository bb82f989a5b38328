"""What a POS or a phone keeps across a crash, as JSON: :class:`~protocol.PosState` and
:class:`~protocol.PhoneState` to and from plain data (no I/O here: ``assocsim pos`` and
``assocsim phone --state FILE`` write it, atomically, before each step's sends leave).

Messages are kept in their wire form (:func:`~protocol.encode_message`), so a state file
reads as the wire does and is checked as strictly when it is read back. Outbox keys are
the machines' own: a request id, ``"subscription"``, ``"promotions"``, or a receipt's
upload or notice (``{"upload": ID}``, ``{"notice": ID}``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import cattrs

from protocol._core._effects import Send
from protocol._core._errors import LocalProtocolError, ProtocolError
from protocol._core._messages import ErrorReply, Message, ReceiptKey
from protocol._core._structuring import describe_errors, strict_converter
from protocol._wire._codec import decode_message, encode_message

from ._outbox import Kept
from ._phone import Delivery, PhoneState
from ._pos import Checkout, PosState, _Notice, _Upload

__all__ = ["Part", "decode_state", "encode_part", "encode_state"]

_converter = strict_converter()

Part = Message | Checkout | Delivery
"""The immutable values a state is made of (messages, sales, deliveries)."""


def encode_part(part: Part) -> Any:
    """A part of a state as JSON-ready data: a message in its wire form, else its fields."""
    if isinstance(part, Checkout | Delivery):
        return _converter.unstructure(part)
    return encode_message(part)


def encode_state(
    state: PosState | PhoneState, part: Callable[[Part], Any] = encode_part
) -> dict[str, Any]:
    """``state`` as JSON-ready data (``kind``: ``"pos"`` or ``"phone"``). ``part`` encodes
    each message, sale and delivery (:func:`encode_part`, or a writer's memo of it: they
    are frozen, and a till or phone keeps the same ones from step to step)."""
    if isinstance(state, PosState):
        return {
            "kind": "pos",
            "merchant_id": state.merchant_id,
            "pos_id": state.pos_id,
            "started_at": state.started_at,
            "next_checkout": state.next_checkout,
            "awaiting_ack": [[part(c), at] for c, at in state.awaiting_ack],
            "outbox": [_kept(k, part) for k in state.outbox],
        }
    return {
        "kind": "phone",
        "phone_id": state.phone_id,
        "started": state.started,
        "subscribing": state.subscribing,
        "subscribed": state.subscribed,
        "device_token": state.device_token,
        "waiting_for_subscription": [list(r) for r in state.waiting_for_subscription],
        "next_request_id": state.next_request_id,
        "outbox": [_kept(k, part) for k in state.outbox],
        "asking": [[rid, list(r)] for rid, r in state.asking],
        "asks_due": [[list(r), at] for r, at in state.asks_due],
        "noticed": [list(r) for r in state.noticed],
        "shown": [list(r) for r in state.shown],
        "deliveries": [part(d) for d in state.deliveries],
        "refusals": [part(m) for m in state.refusals],
    }


def decode_state(data: object) -> PosState | PhoneState:
    """The state :func:`encode_state` made of ``data``; LocalProtocolError if it is not one."""
    try:
        return _decode(data)
    except LocalProtocolError:
        raise
    except (ProtocolError, cattrs.BaseValidationError, KeyError, TypeError, ValueError) as exc:
        detail = (
            "; ".join(describe_errors(exc))
            if isinstance(exc, cattrs.BaseValidationError)
            else str(exc)
        )
        raise LocalProtocolError(f"not a kept state: {detail}") from None


def _decode(data: object) -> PosState | PhoneState:
    if not isinstance(data, dict):
        raise LocalProtocolError("not a kept state: expected a JSON object")
    kind = data.get("kind")
    if kind == "pos":
        return PosState(
            merchant_id=_text(data["merchant_id"]),
            pos_id=_text(data["pos_id"]),
            started_at=None if data["started_at"] is None else _seconds(data["started_at"]),
            next_checkout=_count(data["next_checkout"]),
            awaiting_ack=tuple(
                (_converter.structure(c, Checkout), _seconds(at)) for c, at in data["awaiting_ack"]
            ),
            outbox=tuple(_unkept(k) for k in data["outbox"]),
        )
    if kind == "phone":
        token = data["device_token"]
        return PhoneState(
            phone_id=_text(data["phone_id"]),
            started=_flag(data["started"]),
            subscribing=_flag(data["subscribing"]),
            subscribed=_flag(data["subscribed"]),
            device_token=None if token is None else _text(token),
            waiting_for_subscription=tuple(_receipt(r) for r in data["waiting_for_subscription"]),
            next_request_id=_count(data["next_request_id"]),
            outbox=tuple(_unkept(k) for k in data["outbox"]),
            asking=tuple((_count(rid), _receipt(r)) for rid, r in data["asking"]),
            asks_due=tuple((_receipt(r), _seconds(at)) for r, at in data["asks_due"]),
            noticed=tuple(_receipt(r) for r in data["noticed"]),
            shown=tuple(_receipt(r) for r in data["shown"]),
            deliveries=tuple(_converter.structure(d, Delivery) for d in data["deliveries"]),
            refusals=tuple(_refusal(m) for m in data["refusals"]),
        )
    raise LocalProtocolError(f"not a kept state: kind {kind!r} (expected 'pos' or 'phone')")


def _kept(kept: Kept, part: Callable[[Part], Any]) -> dict[str, Any]:
    return {
        "key": _key(kept.key),
        "to": kept.send.to,
        "message": part(kept.send.message),
        "attempts": kept.attempts,
    }


def _unkept(data: Any) -> Kept:
    send = Send(_text(data["to"]), decode_message(data["message"]))
    return Kept(_unkey(data["key"]), send, _count(data["attempts"]))


def _key(key: Hashable) -> Any:
    if isinstance(key, _Upload):
        return {"upload": key.receipt_id}
    if isinstance(key, _Notice):
        return {"notice": key.receipt_id}
    if isinstance(key, int | str):
        return key
    raise LocalProtocolError(f"an outbox key that cannot be kept: {key!r}")


def _unkey(data: Any) -> Hashable:
    if isinstance(data, dict) and len(data) == 1:
        ((kind, receipt),) = data.items()
        if kind == "upload":
            return _Upload(_text(receipt))
        if kind == "notice":
            return _Notice(_text(receipt))
    if type(data) is int or isinstance(data, str):
        return data
    raise LocalProtocolError(f"not a kept state: outbox key {data!r}")


def _receipt(data: Any) -> ReceiptKey:
    merchant_id, receipt_id = data
    return ReceiptKey(_text(merchant_id), _text(receipt_id))


def _refusal(data: Any) -> ErrorReply:
    message = decode_message(data)
    if not isinstance(message, ErrorReply):
        raise LocalProtocolError(f"not a kept state: a refusal that is a {type(message).__name__}")
    return message


# Plain values through the strict converter's hooks (protocol/_core/_structuring.py), the
# one kit that also decodes messages: a bool is never a number, a number never text.
def _text(value: Any) -> str:
    return _converter.structure(value, str)


def _seconds(value: Any) -> float:
    return _converter.structure(value, float)


def _flag(value: Any) -> bool:
    return _converter.structure(value, bool)


def _count(value: Any) -> int:
    count = _converter.structure(value, int)
    if count < 0:
        raise ValueError(f"expected a whole number of at least 0, got {count!r}")
    return count
