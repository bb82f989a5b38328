"""Every JSON example in docs/wire-format.md decodes, and every message type has one.

An example with an ``"id"`` is a whole frame envelope (see *Framing on TCP*): it is read
by the frame decoder, the others by the message codec. Every error code is documented.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from protocol import (
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_REQUEST_ID,
    MAX_TIME,
    MESSAGE_TYPES,
    ErrorCode,
    RemoteProtocolError,
    decode_message,
    encode_message,
)
from protocol._wire._codec import _LIST_BOUNDS
from protocol.lowlevel import (
    CONTROL_TYPES,
    decode_payload,
    encode_envelope,
)

DOC = Path(__file__).parents[2] / "docs" / "wire-format.md"


def _examples() -> list[dict[str, object]]:
    blocks = re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return [json.loads(block) for block in blocks]


def documented_error_codes() -> set[str]:
    """The codes listed in the document's error-code tables (rows "| `code` | ...")."""
    text = DOC.read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([a-z-]+)` \| ", text, re.MULTILINE)) & {
        c.value for c in ErrorCode
    }


def test_every_example_decodes_and_re_encodes_identically() -> None:
    examples = _examples()
    assert examples
    for example in examples:
        if "id" in example:  # a frame's envelope
            frame = decode_payload(json.dumps(example).encode())
            again = encode_envelope(
                frame.message,
                frame.id,
                sender=frame.sender,
                recipient=frame.recipient,
                refers_to=frame.refers_to,
            )
            assert again == example
        else:
            assert encode_message(decode_message(example)) == example


def test_every_message_type_is_documented() -> None:
    assert {example["type"] for example in _examples()} == set(MESSAGE_TYPES) | set(CONTROL_TYPES)


def test_every_error_code_is_documented() -> None:
    assert documented_error_codes() == {code.value for code in ErrorCode}


# The bounds the field-rules table states, and a value just past each (issue 14: 1e30,
# 2**64 and 1e308 were stored before the messages had upper bounds).
_BOUNDS = {
    "quantity": (MAX_QUANTITY, MAX_QUANTITY + 1),
    "request_id": (MAX_REQUEST_ID, MAX_REQUEST_ID + 1),
    "price": (MAX_PRICE, MAX_PRICE * 1.000001),
    "purchased_at": (MAX_TIME, MAX_TIME + 1.0),
}


def _documented_maximum(field: str) -> float:
    text = DOC.read_text(encoding="utf-8")
    row = re.search(rf"^\| `{field}` \| .*? from \d+ to (\d+)", text, re.MULTILINE)
    assert row is not None, f"docs/wire-format.md states no upper bound for {field}"
    return float(row.group(1))


def _with(example_type: str, field: str, value: object) -> dict[str, object]:
    """The document's example of ``example_type`` with ``field`` set to ``value`` (in the
    body, or in its first item)."""
    (example,) = [e for e in _examples() if e["type"] == example_type and "id" not in e]
    body = example["body"]
    assert isinstance(body, dict)
    target = body["items"][0] if field in ("quantity", "price") else body
    target[field] = value
    return example


_CARRIER = {
    "quantity": "purchase-upload",
    "price": "purchase-upload",
    "purchased_at": "purchase-upload",
    "request_id": "association-request",
}


def test_the_documented_upper_bounds_are_the_messages() -> None:
    for field, (maximum, beyond) in _BOUNDS.items():
        assert _documented_maximum(field) == maximum, field
        at_bound = _with(_CARRIER[field], field, maximum)
        assert encode_message(decode_message(at_bound)) == at_bound
        with pytest.raises(RemoteProtocolError, match=f"{field}: must be at most"):
            decode_message(_with(_CARRIER[field], field, beyond))


@pytest.mark.parametrize("value", [1e30, 2.0**64, 1e308])
def test_the_values_issue_14_stored_are_refused(value: float) -> None:
    for field in ("price", "purchased_at"):
        with pytest.raises(RemoteProtocolError, match="must be at most"):
            decode_message(_with("purchase-upload", field, value))
    with pytest.raises(RemoteProtocolError, match="must be at most"):
        decode_message(_with("purchase-upload", "quantity", int(value)))


def test_the_documented_list_bounds_are_the_messages() -> None:
    """Each list field's row in *Field rules* states the bound the codec checks first."""
    text = DOC.read_text(encoding="utf-8")
    bounds = {key: most for fields in _LIST_BOUNDS.values() for key, most in fields}
    assert set(bounds) == {"items", "products", "popular", "offers"}
    for key, most in bounds.items():
        row = re.search(rf"^\| `{key}` \| (?:1 to|at most) (\d+) ", text, re.MULTILINE)
        assert row is not None, f"docs/wire-format.md states no bound for {key}"
        assert int(row.group(1)) == most, key
