"""A cattrs converter that refuses wrong JSON/TOML types instead of converting them.

cattrs' default structuring calls ``int()``, ``float()``, ``str()`` and ``tuple()`` on
whatever it is given, so ``7.9`` becomes request id ``7`` and ``"abc"`` a tuple of three
SKUs. Input from a peer or a file must be refused instead: these hooks accept only the
JSON type that means the field's type, and raise ``ValueError`` naming what they got.
:func:`describe_errors` turns a failed structuring into one message per problem, each
with the dotted path of the field.
"""

from __future__ import annotations

import enum
import heapq
import math
import typing
from collections.abc import Callable
from typing import Any

import cattrs
from cattrs.errors import ForbiddenExtraKeysError

__all__ = ["MAX_LISTED_KEYS", "describe_errors", "strict_converter"]


def _exact(kind: type, label: str) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> Any:
        if type(value) is not kind:
            raise ValueError(f"expected {label}, got {value!r}")
        return value

    return structure


def _number(value: Any, _: Any) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _member(value: Any, type_: Any) -> Any:
    try:
        return type_(value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in type_)
        raise ValueError(f"expected one of {choices}, got {value!r}") from None


def _is_homogeneous_tuple(type_: Any) -> bool:
    args = typing.get_args(type_)
    return typing.get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def strict_converter() -> cattrs.Converter:
    """A converter whose ints, floats, strs, bools and ``tuple[X, ...]`` are strict."""
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(int, _exact(int, "a whole number"))
    converter.register_structure_hook(str, _exact(str, "text"))
    converter.register_structure_hook(bool, _exact(bool, "true or false"))
    converter.register_structure_hook(float, _number)

    def tuple_hook(type_: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
        item = typing.get_args(type_)[0]

        def structure(value: Any, _: Any) -> tuple[Any, ...]:
            if not isinstance(value, list | tuple):
                raise ValueError(f"expected a list, got {value!r}")
            return tuple(converter.structure(entry, item) for entry in value)

        return structure

    converter.register_structure_hook_factory(_is_homogeneous_tuple, tuple_hook)
    # Enums travel as their plain values (a StrEnum member is a str, but not plain text).
    converter.register_structure_hook(enum.Enum, _member)
    converter.register_structure_hook(enum.StrEnum, _member)
    converter.register_unstructure_hook(enum.Enum, lambda member: member.value)
    converter.register_unstructure_hook(enum.StrEnum, lambda member: member.value)
    return converter


MAX_LISTED_KEYS = 5
"""A refusal names at most this many of the keys it refuses (and counts the rest): it is
built in bounded time whatever the peer sent."""


def _format(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, ForbiddenExtraKeysError):
        # The first few in sorted order, found in linear time, and a count: never sort or
        # print every key of a hostile body (a 4 MiB one holds some 300,000).
        extra = exc.extra_fields
        named = heapq.nsmallest(MAX_LISTED_KEYS, extra)
        more = f" and {len(extra) - len(named)} more" if len(extra) > len(named) else ""
        return f"unknown key {', '.join(named)}{more}"
    if isinstance(exc, KeyError):
        return "required key missing"
    return str(exc)


def describe_errors(exc: cattrs.BaseValidationError) -> list[str]:
    """``"path: problem"`` for each problem in a failed structuring (path may be empty)."""
    problems = []
    for line in cattrs.transform_error(exc, format_exception=_format):
        message, _, path = line.rpartition(" @ $")
        key = path.lstrip(".")
        field, colon, rest = message.partition(": ")
        if key and colon and field.isidentifier():  # a validator named its field already
            key, message = f"{key}.{field}", rest
        problems.append(f"{key}: {message}" if key else message)
    return problems
