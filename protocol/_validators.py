"""attrs validators that raise :class:`InvalidMessage` with a message a user can act on."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

from ._errors import InvalidMessage

__all__ = [
    "finite_number",
    "instance_of",
    "non_empty_tuple_of",
    "positive_int",
    "text",
    "tuple_of",
]

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _where(instance: Any, attribute: attrs.Attribute[Any]) -> str:
    return f"{type(instance).__name__}.{attribute.name}"


def instance_of(*types: type) -> Validator:
    names = " or ".join(t.__name__ for t in types)

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) in types:  # exactly one of them (bool only when listed): fine
            return
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise InvalidMessage(f"{_where(instance, attribute)}: expected {names}, got {value!r}")

    return check


def text(max_length: int, *, allow_empty: bool = False) -> Validator:
    minimum = 0 if allow_empty else 1
    length = len

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is str and minimum <= length(value) <= max_length:  # the common case
            return
        if not isinstance(value, str):
            raise InvalidMessage(f"{_where(instance, attribute)}: expected text, got {value!r}")
        if not value and not allow_empty:
            raise InvalidMessage(f"{_where(instance, attribute)}: must not be empty")
        if len(value) > max_length:
            raise InvalidMessage(
                f"{_where(instance, attribute)}: {len(value)} characters, at most {max_length}"
            )

    return check


def finite_number(*, minimum: float = 0.0) -> Validator:
    isfinite = math.isfinite

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is float and isfinite(value) and value >= minimum:  # the common case
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidMessage(f"{_where(instance, attribute)}: expected a number, got {value!r}")
        if not math.isfinite(value) or value < minimum:
            raise InvalidMessage(
                f"{_where(instance, attribute)}: must be a finite number >= {minimum}, "
                f"got {value!r}"
            )

    return check


def positive_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is int and value > 0:  # the common case
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidMessage(
            f"{_where(instance, attribute)}: must be a whole number > 0, got {value!r}"
        )


def tuple_of(item_type: type, *, max_length: int) -> Validator:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is tuple and len(value) <= max_length:  # the common case
            for entry in value:
                if type(entry) is not item_type:
                    break
            else:
                return
        if not isinstance(value, tuple):
            raise InvalidMessage(f"{_where(instance, attribute)}: expected a tuple, got {value!r}")
        if len(value) > max_length:
            raise InvalidMessage(
                f"{_where(instance, attribute)}: {len(value)} entries, at most {max_length}"
            )
        for entry in value:
            if not isinstance(entry, item_type):
                raise InvalidMessage(
                    f"{_where(instance, attribute)}: expected {item_type.__name__} entries, "
                    f"got {entry!r}"
                )

    return check


def non_empty_tuple_of(item_type: type, *, max_length: int) -> Validator:
    inner = tuple_of(item_type, max_length=max_length)

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        inner(instance, attribute, value)
        if not value:
            raise InvalidMessage(f"{_where(instance, attribute)}: must not be empty")

    return check
