"""A frame's payload as JSON: canonical compact output, strict input (no duplicate keys,
no NaN), with orjson as the fast path."""

from __future__ import annotations

import collections
import json
from typing import Any

import orjson

from ._refusals import MalformedFrame

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_ascii_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, allow_nan=False)


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
