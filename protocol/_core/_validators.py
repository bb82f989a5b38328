"""attrs validators that raise :class:`InvalidMessage` with a message a user can act on."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

from ._errors import InvalidMessage

__all__ = [
    "ConfigValidators",
    "finite_number",
    "instance_of",
    "non_empty_tuple_of",
    "positive_int",
    "positive_int_up_to",
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


def finite_number(*, minimum: float = 0.0, maximum: float = math.inf) -> Validator:
    """A finite int or float from ``minimum`` to ``maximum`` (an upper bound keeps a
    hostile sender's 1e308 out of the store and the sums built on it)."""
    isfinite = math.isfinite

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is float and isfinite(value) and minimum <= value <= maximum:
            return  # the common case
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidMessage(f"{_where(instance, attribute)}: expected a number, got {value!r}")
        if not math.isfinite(value) or value < minimum:
            raise InvalidMessage(
                f"{_where(instance, attribute)}: must be a finite number >= {minimum}, "
                f"got {value!r}"
            )
        if value > maximum:
            raise InvalidMessage(
                f"{_where(instance, attribute)}: must be at most {maximum:g}, got {value!r}"
            )

    return check


def positive_int_up_to(maximum: int) -> Validator:
    """A whole number from 1 to ``maximum`` (never a bool)."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is int and 0 < value <= maximum:  # the common case
            return
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidMessage(
                f"{_where(instance, attribute)}: must be a whole number > 0, got {value!r}"
            )
        if value > maximum:
            raise InvalidMessage(
                f"{_where(instance, attribute)}: must be at most {maximum}, got {value!r}"
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


# ------------------------------------------------------------------ config validators


@attrs.frozen
class ConfigValidators:
    """The validators of every config class, raising that layer's ``error``.

    One vocabulary for every layer: a bool is never a number (``True`` is an ``int`` to
    Python, never a timeout to a user), NaN and infinity are refused wherever a number
    must be finite, and each message names the field and says what would be accepted.
    ``qualified`` names the field with its class (``CloudConfig.push_timeout: ...``) for
    configs built in code; without it (``push_timeout: ...``) for the tables of a
    scenario file, whose loader prefixes the key's dotted path.
    """

    error: Callable[[str], Exception]
    qualified: bool = True

    def _refuse(self, instance: Any, attribute: attrs.Attribute[Any], problem: str) -> None:
        where = _where(instance, attribute) if self.qualified else attribute.name
        raise self.error(f"{where}: {problem}")

    def number(
        self, *, above: float | None = None, minimum: float | None = None, finite: bool = True
    ) -> Validator:
        """An int or float, ``> above`` and/or ``>= minimum``; NaN never, infinity only if
        not ``finite`` (a limit that may be "none")."""

        def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self._refuse(instance, attribute, f"expected a number, got {value!r}")
            elif math.isnan(value) or (finite and math.isinf(value)):
                self._refuse(instance, attribute, f"must be a finite number, got {value!r}")
            elif above is not None and not value > above:
                self._refuse(instance, attribute, f"must be > {above:g}, got {value!r}")
            elif minimum is not None and value < minimum:
                self._refuse(instance, attribute, f"must be at least {minimum:g}, got {value!r}")

        return check

    def positive_number(self, *, finite: bool = True) -> Validator:
        return self.number(above=0, finite=finite)

    def non_negative_number(self) -> Validator:
        return self.number(minimum=0)

    def whole_number(self, minimum: int | None = None, maximum: int | None = None) -> Validator:
        """An int (never a bool or a float such as ``2.0``) within the bounds given."""

        def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
            if isinstance(value, bool) or not isinstance(value, int):
                self._refuse(instance, attribute, f"expected a whole number, got {value!r}")
            elif minimum is not None and value < minimum:
                self._refuse(instance, attribute, f"must be at least {minimum}, got {value!r}")
            elif maximum is not None and value > maximum:
                self._refuse(instance, attribute, f"must be at most {maximum}, got {value!r}")

        return check

    def fraction(self) -> Validator:
        """A number from 0 to 1 inclusive (a probability, a share)."""

        def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                self._refuse(instance, attribute, f"must be a fraction from 0 to 1, got {value!r}")

        return check

    def duration(self, *, positive: bool = False) -> Validator:
        """Finite seconds, longer than 0 if ``positive``, else not negative."""

        def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self._refuse(instance, attribute, f"expected a duration, got {value!r}")
            elif not math.isfinite(value):
                self._refuse(instance, attribute, f"must be a finite duration, got {value!r}")
            elif positive and not value > 0:
                self._refuse(instance, attribute, f"must be longer than 0, got {value!r}")
            elif value < 0:
                self._refuse(instance, attribute, f"must not be negative, got {value!r}")

        return check

    def flag(self) -> Validator:
        def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
            if not isinstance(value, bool):
                self._refuse(instance, attribute, f"expected True or False, got {value!r}")

        return check

    def one_of(self, *choices: str) -> Validator:
        known = ", ".join(repr(c) for c in choices)

        def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
            if value not in choices:
                self._refuse(instance, attribute, f"expected one of {known}, got {value!r}")

        return check
