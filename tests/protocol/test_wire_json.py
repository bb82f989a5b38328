"""The wire's JSON: orjson's fast path decides exactly as the strict stdlib parser does."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from protocol import (
    AssociationRequest,
)
from protocol._wire._json import _json_bytes, _json_value, _strict_json_value
from protocol._wire._refusals import MalformedFrame
from protocol.lowlevel import (
    decode_payload,
    encode_frame,
)

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same JSON kinds all the way down (1 is not 1.0, -0.0 not 0.0).

    With a stack of its own, not recursion: Python 3.13's parser reads values deeper than
    the interpreter's recursion limit (the 2,000-deep case below), and comparing them
    must not be what fails.
    """
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if list(x) != list(y):
                return False
            pending.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            pending.extend(zip(x, y, strict=True))
        elif isinstance(x, float):
            if not (x == y and math.copysign(1.0, x) == math.copysign(1.0, y)):
                return False
        elif x != y:
            return False
    return True


def _outcome(decode: Any, payload: bytes) -> tuple[str, Any]:
    try:
        return ("value", decode(payload))
    except MalformedFrame as exc:
        return ("refused", str(exc))


def _assert_decided_alike(payload: bytes) -> None:
    fast = _outcome(_json_value, payload)
    strict = _outcome(_strict_json_value, payload)
    assert fast[0] == strict[0], (payload, fast, strict)
    if fast[0] == "refused":
        assert fast == strict
    else:
        assert _same(fast[1], strict[1]), (payload, fast, strict)


def _spellings(value: Any) -> list[bytes]:
    spelled = [
        json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(),
        json.dumps(value).encode(),  # spaces after separators
        json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode(),
    ]
    with contextlib.suppress(orjson.JSONEncodeError):  # over 64 bits, a lone surrogate
        spelled.append(orjson.dumps(value))
    return spelled


@given(json_values)
@example({"a": 1, "b": [1.0, -0.0, 1e-05, 1e16, 2**64]})
def test_every_spelling_of_a_value_is_decided_as_the_strict_parser_does(value: Any) -> None:
    for payload in _spellings(value):
        _assert_decided_alike(payload)


@given(st.dictionaries(st.text(max_size=3), json_values, min_size=1), st.data())
def test_a_repeated_key_is_refused_even_in_canonical_form(
    obj: dict[str, Any], data: st.DataObject
) -> None:
    canonical = _json_bytes(obj)  # what the fast path would otherwise accept
    key = data.draw(st.sampled_from(sorted(obj)))
    repeated = canonical[:-1] + b"," + _json_bytes({key: obj[key]})[1:]
    assert _outcome(_json_value, repeated)[0] == "refused"
    _assert_decided_alike(repeated)


@given(json_values, st.data())
def test_mutated_payloads_are_decided_as_the_strict_parser_does(
    value: Any, data: st.DataObject
) -> None:
    payload = bytearray(_json_bytes({"body": value}))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(payload) - 1))
        action = data.draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = data.draw(st.integers(0, 255))
        if action == "replace":
            payload[at] = byte
        elif action == "insert":
            payload.insert(at, byte)
        elif len(payload) > 1:
            del payload[at]
    _assert_decided_alike(bytes(payload))


@given(st.binary(max_size=64))
def test_arbitrary_bytes_are_decided_as_the_strict_parser_does(payload: bytes) -> None:
    _assert_decided_alike(payload)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":1,"a":1}',
        b'"\\ud800"',  # a lone surrogate, escaped
        b"18446744073709551616",  # over 64 bits: orjson would make it a float
        b"\xff",
        b"[" * 2000 + b"]" * 2000,  # too deep for 3.11 and 3.12, read by 3.13: alike either way
    ],
)
def test_what_orjson_reads_differently_is_left_to_the_strict_parser(payload: bytes) -> None:
    _assert_decided_alike(payload)


def test_a_lone_surrogate_is_written_as_an_escape() -> None:
    assert _json_bytes({"s": "\ud800"}) == b'{"s":"\\ud800"}'
    assert _strict_json_value(_json_bytes({"s": "\ud800"})) == {"s": "\ud800"}


def test_frames_are_written_in_the_canonical_form_the_fast_path_reads() -> None:
    frame = encode_frame(
        AssociationRequest(1, "r-1", "shop-a", "+8613800000001"), 7, recipient="cloud"
    )
    payload = frame[4:]
    assert orjson.dumps(orjson.loads(payload)) == payload
    assert decode_payload(payload).message == AssociationRequest(
        1, "r-1", "shop-a", "+8613800000001"
    )
