"""Planted bug for the list bounds (tests/protocol/test_list_bounds.py,
tests/actors/test_tcp_hostile_bodies.py): the codec as it was before issue 14's leftovers,
which structured every entry of a peer's list and let the message's validator refuse the
length afterwards (a 4 MiB upload of 31k valid items: 62k items built, 270 ms)."""

from __future__ import annotations

from typing import Any

from protocol._core._messages import Message
from protocol._wire import _codec, _fast


def structure_body_first(name: str, body: dict[str, Any]) -> Message:
    """``_codec._structure_body`` without the length check: fast path, then converter."""
    fast = _codec._FAST_STRUCTURE[name]
    try:
        message: Message = fast(body)
    except Exception as exc:
        return _fast.fall_back(
            "structure",
            _codec.MESSAGE_TYPES[name],
            lambda: _codec._structure_slowly(name, body),
            exc,
        )
    return message
